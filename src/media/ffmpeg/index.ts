/**
 * media/ffmpeg: everything that runs ffmpeg. Which binary (locate.ts) and the processes that write
 * received streams (record, decode-and-count, play), fed on stdin and extra pipes.
 */
export { ToolNotFoundError, locate, tryLocate } from './locate.ts';
export type { Tool } from './locate.ts';
export { FfmpegTsSink, ffmpegSinkArgs } from './ts-sink.ts';
export type { SinkCommandOptions, SinkInput, TsSinkMode, TsSinkResult } from './ts-sink.ts';
