/**
 * Named caps that bound memory and work on untrusted files.
 */

/** Largest moov box read into memory (a 2-hour 60 fps movie needs ~10 MB). */
export const MAX_MOOV_BYTES = 64 * 1024 * 1024;
/** Largest sample count of one track (29 bytes of tables per sample: ~120 MB at the cap). */
export const MAX_SAMPLES_PER_TRACK = 1 << 22;
/** Largest sum of sample counts over all tracks of a file. */
export const MAX_TOTAL_SAMPLES = 1 << 23;
/** Most tracks in one moov. */
export const MAX_TRACKS = 64;
/** Most top-level boxes scanned while looking for moov. */
export const MAX_TOP_LEVEL_BOXES = 100_000;
/** Deepest box nesting parsed inside moov. */
export const MAX_BOX_DEPTH = 16;
/** Most edit list entries honoured or inspected per track. */
export const MAX_EDITS = 4096;
/** Largest single read done by readSamples for one contiguous run of samples. */
export const MAX_READ_RUN_BYTES = 16 * 1024 * 1024;
