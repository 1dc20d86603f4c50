/**
 * lab/ owns `streamlab lab`: experiments (a matrix over netem impairment, jitter-buffer settings,
 * transport and media, repeated with seeds), their runs through the production server and receiver
 * (in real time on loopback, or `--fast` in simulated time on a ManualClock without sockets), the
 * figures of each run (ground truth from the emulator's fate log vs what RTCP reported, jitter
 * buffer, freezes, PSNR/SSIM of the recording against the source, E-model MOS for audio, event-loop
 * delay), and the output folder: results.json/csv written after every run, SVG plots rendered
 * headless with vega-lite, and index.html. The impairment models themselves live in impair/.
 */

export type { LabErrorCode, LabIssue } from './errors.ts';
export { ExperimentError, formatIssue } from './errors.ts';
export {
  AAC_EMODEL_ASSUMED,
  IMPAIRMENT_SCOPE,
  MAX_DURATION_SEC,
  MAX_RUNS,
  configuredLoss,
  configuredMeanBurst,
  describeScope,
  expandRuns,
  parseNetemCondition,
  parseJitterSpec,
  resolveTrackKeys,
  validateExperiment,
} from './experiment.ts';
export type {
  EmodelCodec,
  Experiment,
  ExperimentDefaults,
  NetemCondition,
  PathCondition,
  RunMode,
  RunSpec,
  PresentationTrack,
  TransportKind,
} from './experiment.ts';
export { RunImpairment } from './impairment.ts';
export { windowCounts } from './collect.ts';
export {
  checkTrackKeys,
  experimentFromFlags,
  loadExperiment,
  loadTraces,
  mediaResolver,
  parseExperimentText,
  presentationOf,
} from './load.ts';
export type { LoadOptions, OneOffFlags } from './load.ts';
export { EMODEL_R_DEFAULT, G113, emodel, mosFromR } from '../stats/emodel.ts';
export type { EmodelResult } from '../stats/emodel.ts';
export { detectFreezes, freezeThresholdMs } from './freezes.ts';
export type { FreezeStats } from './freezes.ts';
export { gilbertEstimate, meanCi, tQuantile975 } from './stats.ts';
export type { MeanCi } from './stats.ts';
export { DELAYED_THRESHOLD_MS, audioEstimate, rtcpFigures, sampleReceivers, statsWindow, trackResult, truthFigures } from './collect.ts';
export type { RunObservation } from './observation.ts';
export type {
  JitterBufferFigures,
  RtcpFigures,
  RunParams,
  RunResult,
  SeriesPoint,
  TrackResult,
  TruthFigures,
  VideoQuality,
} from './result-types.ts';
export { runFast } from './run-fast.ts';
export { runRealtime } from './run-realtime.ts';
export { runId, runOne, runParams } from './run-one.ts';
export type { RunOneOptions } from './run-one.ts';
export { PSNR_CAP_DB, measureVideoQuality, parseStatsFile, sourceFrameRate } from './video-quality.ts';
export type { QualityInput } from './video-quality.ts';
export { RecordingTap } from './recording.ts';
export { csvColumns, toCsv, writeResults } from './results-io.ts';
export type { ResultsFile } from './results-io.ts';
export { MEASURES, clipToRange, plotSpecs, renderSvg, summarizeConditions } from './plots.ts';
export type { ConditionSummary } from './plots.ts';
export { writeReport } from './report.ts';
export { ProgressBar } from './progress.ts';
export { runExperiment } from './runner.ts';
export type { LabOptions, LabOutcome } from './runner.ts';
