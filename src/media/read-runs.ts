import { MAX_READ_RUN_BYTES } from './limits.ts';
import type { SampleTable } from './types.ts';
import { at } from '../util/narrow.ts';

/**
 * Samples [from, to) of a table read with one `read` per run of samples that follow each other in
 * the file (up to MAX_READ_RUN_BYTES a run); the results are views into the run buffers. Shared by
 * the MP4 reader and the MPEG-TS file reader.
 */
export async function readSampleRuns(
  samples: Pick<SampleTable, 'offsets' | 'sizes'>,
  from: number,
  to: number,
  read: (pos: number, len: number) => Promise<Buffer>,
): Promise<Buffer[]> {
  const { offsets, sizes } = samples;
  const out: Buffer[] = [];
  let i = from;
  while (i < to) {
    // Grow a run while the next sample starts where the previous one ended.
    const start = at(offsets, i);
    let end = start + at(sizes, i);
    let j = i + 1;
    while (j < to && offsets[j] === end && end + at(sizes, j) - start <= MAX_READ_RUN_BYTES) end += at(sizes, j++);
    const buf = await read(start, end - start);
    for (let k = i; k < j; k++) {
      const rel = at(offsets, k) - start;
      out.push(buf.subarray(rel, rel + at(sizes, k)));
    }
    i = j;
  }
  return out;
}
