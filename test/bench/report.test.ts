/**
 * The bench's TCP-against-UDP table (bench/report.ts): with rounds (`--clients 100,100`), each
 * TCP row is compared with the UDP row of its own round, taken beside it, not with the first.
 */
import { describe, expect, it } from 'vitest';
import { perPacketTable } from '../../bench/report.ts';
import type { RunResult } from '../../bench/load-run.ts';

function row(transport: 'udp' | 'tcp', clients: number, cpuUsPerPacket: number): RunResult {
  return { server: 'streamlab', runner: 'js', sender: 'native', transport, clients, timeline: 'own', cpuUsPerPacket } as RunResult;
}

describe('perPacketTable', () => {
  it('compares each TCP row with the UDP row of its round', () => {
    const table = perPacketTable([row('udp', 100, 6), row('tcp', 100, 6.6), row('udp', 100, 5), row('tcp', 100, 4.5)])!;
    const ratios = table
      .split('\n')
      .slice(2)
      .map((line) => line.trim().split(/\s+/));
    expect(ratios.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['6.60', '6.00', '1.10x'],
      ['4.50', '5.00', '0.90x'],
    ]);
  });

  it('says n/a without a UDP row of the same round', () => {
    const table = perPacketTable([row('tcp', 400, 4)])!;
    expect(table.split('\n')[2]).toMatch(/n\/a/);
  });
});
