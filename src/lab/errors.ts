/**
 * Error codes of the lab. Experiment files are user input: validation collects every problem as a
 * `LabIssue` naming the field (`experiment.matrix.netem[2]: ...`) instead of throwing on the first.
 */

export type LabErrorCode = 'LAB_ERR_EXPERIMENT_SYNTAX' | 'LAB_ERR_EXPERIMENT_INVALID' | 'LAB_ERR_RUN_FAILED' | 'LAB_ERR_NO_FFMPEG';

/** One problem in an experiment description, with the path of the field it is about. */
export interface LabIssue {
  /** e.g. `experiment.matrix.netem[2]`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(i: LabIssue): string {
  return `${i.path}: ${i.message}`;
}

/** Thrown by the CLI-facing loaders when an experiment cannot be used (a programmer-facing wrapper). */
export class ExperimentError extends Error {
  readonly code: LabErrorCode;
  constructor(
    code: LabErrorCode,
    readonly issues: readonly LabIssue[],
  ) {
    super(issues.map(formatIssue).join('\n'));
    this.code = code;
    this.name = 'ExperimentError';
  }
}
