import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The optional native sender (native/sendmmsg.c, built at install by native/build.mjs): hands a
 * batch of datagrams to the kernel with one sendmmsg(2) per run of datagrams on the same socket.
 * See the C file for the contract. Absent (not Linux, no compiler at install, STREAMLAB_NO_NATIVE),
 * the pure-JS sender (one dgram send per datagram) does the same work.
 */
export interface NativeSendmmsg {
  /** The addon's interface version (ADDON_VERSION in the C file). */
  readonly version?: number;
  send(
    fds: Int32Array,
    heads: Buffer,
    headLengths: Int32Array,
    bufs: (Buffer | undefined)[],
    dests: Uint32Array | null,
    count: number,
    status: Int32Array,
  ): number;
  /** Absent from an addon built before it: interleaved connections then take Node's writes. */
  writeFrames?: NativeWritev['writeFrames'];
  /** Turns UDP segmentation offload on or off (when given) and tells its state (native/sendmmsg.c). */
  gso(enable?: boolean): UdpGsoState;
  /** The scheduler's sub-millisecond wake-up timer (native/timer.c, precise-timer.ts); absent from a counting stand-in. */
  timerStart?(onFire: () => void): void;
  timerArm?(delayMs: number): void;
  timerStop?(): void;
}

/**
 * UDP segmentation offload in the native sender: a video frame's fragments to one client leave as
 * one message the kernel cuts into the same datagrams (native/sendmmsg.c has the rules).
 */
export interface UdpGsoState {
  /** The kernel takes UDP_SEGMENT (Linux 4.18+). */
  readonly available: boolean;
  /** Available and not turned off (STREAMLAB_UDP_GSO=0, or a device that cannot checksum for it). */
  readonly enabled: boolean;
  /** Segmented messages sent, the datagrams they carried, and messages sent again one by one. */
  readonly messages: number;
  readonly segments: number;
  readonly fallbacks: number;
}

/**
 * The addon's interleaved writer: the `$` frames of many connections in one call, one sendmsg per
 * connection (native/sendmmsg.c, writeFrames, has the contract).
 */
export interface NativeWritev {
  writeFrames(
    fds: Int32Array,
    frames: Int32Array,
    heads: Buffer[],
    ends: Int32Array,
    payloads: (Buffer | undefined)[],
    count: number,
    status: Int32Array,
  ): number;
}

/** Which sender a path uses: 'native' (the addon) if it loaded, else 'js'. */
export type SenderKind = 'native' | 'js';
/** Which UDP sender the server's egresses use: 'native' if it loaded, else 'js'. */
export type UdpSenderKind = SenderKind;

/**
 * The addon's path: native/build/ of the package, found upwards from this module (src/transport/,
 * dist/transport/, or the bench's compiled copy under .cache/bench-js/).
 */
function addonPath(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = path.join(dir, 'native', 'build', 'sendmmsg.node');
    if (existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** The interface this code calls (ADDON_VERSION in native/sendmmsg.c). */
const NATIVE_SENDER_VERSION = 4;

/** Bytes of the heads Buffer per datagram (HEAD_SLOT in native/sendmmsg.c). */
export const NATIVE_HEAD_SLOT = 16;

let loaded: { addon: NativeSendmmsg | undefined; error: string | undefined } | undefined;

/** Loads the addon once; undefined (with the reason in nativeSenderError()) when it is absent. */
export function nativeSendmmsg(): NativeSendmmsg | undefined {
  if (!loaded) {
    try {
      const file = addonPath();
      if (!file) throw new Error('not built (npm run build:native)');
      const addon = createRequire(import.meta.url)(file) as NativeSendmmsg;
      if (typeof addon.send !== 'function') throw new Error('the addon has no send()');
      if (addon.version !== NATIVE_SENDER_VERSION) throw new Error('built from an older native/sendmmsg.c (npm run build:native)');
      if (process.env.STREAMLAB_UDP_GSO === '0') addon.gso(false);
      loaded = { addon, error: undefined };
    } catch (err) {
      loaded = { addon: undefined, error: err instanceof Error ? err.message : String(err) };
    }
  }
  return loaded.addon;
}

/** The addon's interleaved writer, when the addon loaded and has one. */
export function nativeWritev(): NativeWritev | undefined {
  const addon = nativeSendmmsg();
  return addon && typeof addon.writeFrames === 'function' ? (addon as NativeWritev) : undefined;
}

/** The native sender's segmentation offload, when the addon loaded. */
export function udpGso(): UdpGsoState | undefined {
  return nativeSendmmsg()?.gso();
}

/** Why the native sender is not available (undefined when it is). */
export function nativeSenderError(): string | undefined {
  nativeSendmmsg();
  return loaded?.error;
}

/**
 * The sender new UDP egresses use. Default: `STREAMLAB_SENDER` (`js`, `native`, `auto`), else
 * auto: native when the addon loaded. Asking for native without the addon falls back to js.
 */
let chosen: UdpSenderKind | undefined;

export function udpSenderKind(): UdpSenderKind {
  if (chosen === undefined) setUdpSender((process.env.STREAMLAB_SENDER as 'js' | 'native' | 'auto' | undefined) ?? 'auto');
  return chosen!;
}

/** Chooses the sender for egresses made from now on; returns the one in force. */
export function setUdpSender(want: 'js' | 'native' | 'auto'): UdpSenderKind {
  chosen = want !== 'js' && nativeSendmmsg() ? 'native' : 'js';
  return chosen;
}

/**
 * The writer new interleaved (RTP over the RTSP TCP connection) connections use: the same choice
 * (`STREAMLAB_SENDER`, else auto): native when the addon has its writeFrames, else Node's socket.write.
 */
let chosenInterleaved: SenderKind | undefined;

export function interleavedSenderKind(): SenderKind {
  if (chosenInterleaved === undefined)
    setInterleavedSender((process.env.STREAMLAB_SENDER as 'js' | 'native' | 'auto' | undefined) ?? 'auto');
  return chosenInterleaved!;
}

/** Chooses the interleaved writer for connections from now on; returns the one in force. */
export function setInterleavedSender(want: 'js' | 'native' | 'auto'): SenderKind {
  chosenInterleaved = want !== 'js' && nativeWritev() ? 'native' : 'js';
  return chosenInterleaved;
}
