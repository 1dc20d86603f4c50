/**
 * SDP writer (RFC 4566 §5): lines in the order the grammar requires, each ending in CRLF.
 * Session: v o s i u e p c b t <otherLines> a, then each media: m i c b <otherLines> a.
 * `buildSdp(parseSdp(text))` reproduces any description already written in that order.
 */

import type { MediaDescription, SdpAttribute, SdpBandwidth, SdpConnection, SdpLine, SessionDescription } from './types.ts';

function check(line: string): string {
  if (/[\r\n]/.test(line)) throw new TypeError(`SDP line contains CR or LF: ${JSON.stringify(line)}`);
  return `${line}\r\n`;
}

function conn(c: SdpConnection): string {
  return check(`c=${c.netType} ${c.addrType} ${c.address}`);
}

function bw(list: readonly SdpBandwidth[] | undefined): string {
  return (list ?? []).map((b) => check(`b=${b.type}:${b.value}`)).join('');
}

function others(list: readonly SdpLine[] | undefined): string {
  return (list ?? []).map((l) => check(`${l.type}=${l.value}`)).join('');
}

export function formatAttribute(a: SdpAttribute): string {
  return a.value === undefined ? a.name : `${a.name}:${a.value}`;
}

function attrs(list: readonly SdpAttribute[]): string {
  return list.map((a) => check(`a=${formatAttribute(a)}`)).join('');
}

function mediaSection(m: MediaDescription): string {
  const port = m.numPorts === undefined ? `${m.port}` : `${m.port}/${m.numPorts}`;
  let out = check(`m=${[m.type, port, m.protocol, ...m.formats].join(' ')}`);
  if (m.info !== undefined) out += check(`i=${m.info}`);
  if (m.connection !== undefined) out += conn(m.connection);
  out += bw(m.bandwidth);
  out += others(m.otherLines);
  out += attrs(m.attributes);
  return out;
}

export function buildSdp(desc: SessionDescription): string {
  const o = desc.origin;
  let out = check(`v=${desc.version}`);
  out += check(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  out += check(`s=${desc.sessionName === '' ? ' ' : desc.sessionName}`);
  if (desc.info !== undefined) out += check(`i=${desc.info}`);
  if (desc.uri !== undefined) out += check(`u=${desc.uri}`);
  for (const e of desc.emails ?? []) out += check(`e=${e}`);
  for (const p of desc.phones ?? []) out += check(`p=${p}`);
  if (desc.connection !== undefined) out += conn(desc.connection);
  out += bw(desc.bandwidth);
  out += check(`t=${desc.timing.start} ${desc.timing.stop}`);
  out += others(desc.otherLines);
  out += attrs(desc.attributes);
  for (const m of desc.media) out += mediaSection(m);
  return out;
}
