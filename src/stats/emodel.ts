/**
 * The ITU-T G.107 E-model reduced to packet loss (every other impairment at its default):
 * Ie,eff = Ie + (95 - Ie) · Ppl / (Ppl / BurstR + Bpl), R = 93.2 - Ie,eff, and the R → MOS mapping.
 * Codec values (Ie, Bpl) from ITU-T G.113 Appendix I; AAC has none (see AAC_EMODEL_ASSUMED).
 */

/** E-model codec parameters (G.113): equipment impairment and packet-loss robustness. */
export interface EmodelCodec {
  readonly name: string;
  readonly ie: number;
  readonly bpl: number;
}

/** G.107 default R with no impairment (Ro - Is with default parameters). */
export const EMODEL_R_DEFAULT = 93.2;

/** G.113 Appendix I planning values. */
export const G113 = {
  g711Plc: { name: 'G.711 with PLC', ie: 0, bpl: 25.1 },
  g711NoPlc: { name: 'G.711 without PLC', ie: 0, bpl: 4.3 },
  g729a: { name: 'G.729A + VAD', ie: 11, bpl: 19 },
} as const satisfies Record<string, EmodelCodec>;

export interface EmodelResult {
  /** Packet-loss probability in percent. */
  ppl: number;
  burstR: number;
  ie: number;
  bpl: number;
  ieEff: number;
  r: number;
  mos: number;
}

/** G.107 §B.4 / Annex B: R → MOS (CQE), clamped to 1..4.5. */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  // The cubic dips below 1 for R < 6.5: clamp (G.107 Annex B maps R < 0 to 1).
  if (r < 6.5) return Math.max(1, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r));
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

/** @param pplPercent packet loss in percent (0..100); burstR 1 for random loss. */
export function emodel(codec: EmodelCodec, pplPercent: number, burstR = 1): EmodelResult {
  if (!(pplPercent >= 0 && pplPercent <= 100)) throw new RangeError(`Ppl must be in 0..100 %: ${pplPercent}`);
  if (!(burstR >= 1)) burstR = 1;
  const ieEff = codec.ie + ((95 - codec.ie) * pplPercent) / (pplPercent / burstR + codec.bpl);
  const r = EMODEL_R_DEFAULT - ieEff;
  return { ppl: pplPercent, burstR, ie: codec.ie, bpl: codec.bpl, ieEff, r, mos: mosFromR(r) };
}
