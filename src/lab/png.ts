/**
 * SVG to PNG with resvg (a Rust renderer shipped as an npm package with prebuilt binaries: no
 * browser, no canvas). System fonts are loaded; sans-serif falls back to DejaVu Sans when present.
 */

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
type ResvgCtor = new (svg: string, o: object) => { render(): { asPng(): Buffer } };
let ctor: ResvgCtor | undefined;

/** Renders at `scale` × the SVG's size (2: sharp on print and high-DPI screens). */
export function svgToPng(svg: string, scale = 2): Buffer {
  ctor ??= (require('@resvg/resvg-js') as { Resvg: ResvgCtor }).Resvg;
  const r = new ctor(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
