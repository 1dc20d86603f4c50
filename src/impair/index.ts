/**
 * impair/ owns network impairment as pure, seeded, clock-free code: the netem grammar (the words of
 * `tc qdisc ... netem`, plus `trace FILE`, and their URL form), the models netem implements (loss
 * random/gemodel/state, trace replay, delay + jitter with uniform/normal/pareto/paretonormal and
 * correlation, reorder with gap, duplicate, corrupt, rate with packet/cell overhead, limit) as packet
 * stages in netem's order, an `ImpairmentPipeline` that says when each copy of a submitted packet
 * leaves the emulator, and the ground-truth fate log with its summaries (loss/gap runs, RFC 3611
 * burst/gap metrics with Gmin 16, delay distribution). Sockets, timers and files live elsewhere:
 * the caller schedules deliveries and loads trace files.
 *
 * Beyond netem (Mahimahi's model, ours): time-based traces (`link FILE` delivery opportunities,
 * `delaytrace FILE`) and a bottleneck queue in front of the link (`queue droptail|codel`, with
 * packet and byte limits and RFC 8289 CoDel), decided at dequeue time (bottleneck.ts).
 *
 * Deviations from Linux netem (each documented where it is implemented):
 * - one PRNG stream per decision (crandom.ts), not one for all; xoshiro128**, not prandom, so
 *   sequences match netem statistically, not bit for bit;
 * - delay correlation survives (netem's modulo indexing discards it); loss/duplicate/corrupt/reorder
 *   correlation is netem's (and so lowers the effective probability below 50 %);
 * - distribution tables computed analytically (delay-dist.ts); `uniform` names netem's default;
 * - refused: `slot`, `ecn`, `rate N%`, custom distribution files, `loss state` with p13 + p14 or
 *   p31 + p32 above 100 % (the kernel's u32 sums wrap); `limit` takes a plain integer only;
 * - rates are kept in bit/s (tc truncates to whole bytes/s); seeds above 2^53 are refused.
 */

export type { ImpairError, ImpairErrorCode, ImpairResult } from './errors.ts';
export {
  CODEL_INTERVAL_MS,
  CODEL_TARGET_MS,
  DEFAULT_QUEUE,
  EMPTY_NETEM_CONFIG,
  IMPAIR_MAX_LIMIT,
  IMPAIR_MAX_QUEUE_BYTES,
  NETEM_DEFAULT_LIMIT,
  QUEUE_DEFAULT_PACKETS,
} from './config.ts';
export type {
  DelayConfig,
  DelayDistribution,
  GeLossConfig,
  LossConfig,
  NetemConfig,
  QueueConfig,
  RandomLossConfig,
  RateConfig,
  StateLossConfig,
  TraceLossConfig,
} from './config.ts';
export { parseNetemArgs, tokenizeNetemArgs } from './netem-args.ts';
export {
  LOSS_TRACE_MAX_SAMPLES,
  decodeNetemUrlParam,
  formatNetemArgs,
  formatNetemUrlParam,
  netemWords,
  parseLossTrace,
  parseNetemUrlParam,
} from './netem-format.ts';
export { CorrelatedRandom, createStream, pathSeed, streamSeed, traceStartFraction } from './crandom.ts';
export {
  BernoulliLoss,
  FourStateLoss,
  GI_STATE,
  GilbertElliottLoss,
  TraceLoss,
  createLossModel,
  fourStateStationaryLoss,
  geStationaryLoss,
} from './loss-models.ts';
export type { LossModel } from './loss-models.ts';
export { distributionT, normalQuantile, sampleDelayMs } from './delay-dist.ts';
export {
  CorruptStage,
  DelayStage,
  DuplicateStage,
  HeldQueue,
  LimitStage,
  LossStage,
  PASS,
  newStagePacket,
  packetTimeMs,
  runStages,
} from './stages.ts';
export type { DropReason, PacketStage, StageOutcome, StagePacket, StageVerdict } from './stages.ts';
export {
  FATE_LOG_DEFAULT_MAX_RECORDS,
  ImpairmentPipeline,
  createBottleneck,
  createNetemStages,
  traceOffsetsFor,
  usesBottleneck,
} from './pipeline.ts';
export type {
  DeliveredCopy,
  ImpairInputPacket,
  ImpairmentPipelineOptions,
  LateDelivery,
  PipelineCounters,
  SubmitResult,
  TraceOffsetMode,
  TraceOffsets,
} from './pipeline.ts';
export { BottleneckLink } from './bottleneck.ts';
export type { LinkCounters, LinkDropReason, LinkItem, LinkService } from './bottleneck.ts';
export {
  DELIVERY_OPPORTUNITY_BYTES,
  DelaySchedule,
  DeliverySchedule,
  TIME_TRACE_MAX_LINES,
  parseDelayTrace,
  parseDeliveryTrace,
} from './time-traces.ts';
export type { DelayTrace, DeliveryTrace } from './time-traces.ts';
export { RFC3611_GMIN, burstGapMetrics, delaySummary, packetFates, runLengths, summarizeFates } from './fate-log.ts';
export type { BurstGapMetrics, DelaySummary, FateRecord, FateSummary, PacketFate, RunHistogramEntry, RunLengths } from './fate-log.ts';
