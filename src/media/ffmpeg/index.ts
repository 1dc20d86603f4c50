/**
 * media/ffmpeg: everything that runs ffmpeg. Which binary (locate.ts) and, through fluent-ffmpeg,
 * the processes that write received streams (record, decode-and-count, play).
 */
export { ToolNotFoundError, locate, tryLocate } from './locate.ts';
export type { Tool } from './locate.ts';
export { FfmpegTsSink } from './ts-sink.ts';
export type { TsSinkMode, TsSinkResult } from './ts-sink.ts';
