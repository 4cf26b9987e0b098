/**
 * Image bodies (JPEG, PNG) into a model's input tensor with sharp (libvips): decoded, checked
 * (pixel limit, colour channels), resized to the input's height and width, put in its layout
 * (NCHW or NHWC, read from the input shape), channel order and normalisation.
 * Defaults: RGB, pixels scaled to 0..1 (`scale` 1/255), mean 0, std 1, `fit: 'fill'` (stretch);
 * a uint8 input takes the raw 0..255 pixels.
 */
import sharp from 'sharp';
import { MillwrightError } from '../errors/index.ts';
import type { ImageInputConfig, TensorSpec, TensorValue } from '../model/contract.ts';

/** Default pixel limit: 40 megapixels (a decoded RGB image of that size is 120 MB). */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** Where height, width and channels sit in a rank-4 image input. */
export interface ImageLayout {
  layout: 'NCHW' | 'NHWC';
  channels: number;
  /** Fixed height and width, or -1 when the model takes any (the image keeps its own). */
  height: number;
  width: number;
}

/**
 * The layout of an image input from its shape: `[N, C, H, W]` when dimension 1 is 1 or 3, else
 * `[N, H, W, C]` when the last is 1 or 3.
 *
 * @example
 * import { imageLayout } from 'millwright';
 * imageLayout({ name: 'x', type: 'float32', shape: [-1, 3, 224, 224] }); // { layout: 'NCHW', channels: 3, height: 224, width: 224 }
 */
export function imageLayout(spec: TensorSpec): ImageLayout {
  const s = spec.shape;
  const ch = (d: number | undefined) => d === 1 || d === 3;
  if (s.length === 4 && ch(s[1])) return { layout: 'NCHW', channels: s[1]!, height: s[2]!, width: s[3]! };
  if (s.length === 4 && ch(s[3])) return { layout: 'NHWC', channels: s[3]!, height: s[1]!, width: s[2]! };
  throw new MillwrightError('BAD_INPUT', `input "${spec.name}" has shape [${s.join(', ')}]; an image input is [N, C, H, W] or [N, H, W, C] with C = 1 or 3`);
}

/** Checks an image config against the model's inputs (at import time); returns it with `input` filled in. */
export function checkImageConfig(value: unknown, inputs: TensorSpec[]): ImageInputConfig {
  const bad = (m: string) => new MillwrightError('BAD_INPUT', `onnx: "image" ${m}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('must be an object {"channels", "mean", "std", "scale", "fit", "maxPixels", "input"}');
  const c = value as Record<string, unknown>;
  const known = ['input', 'channels', 'mean', 'std', 'scale', 'fit', 'maxPixels'];
  const extra = Object.keys(c).filter((k) => !known.includes(k));
  if (extra.length > 0) throw bad(`has unknown key(s) ${extra.join(', ')} (known: ${known.join(', ')})`);
  const input = c.input ?? inputs[0]?.name;
  const spec = inputs.find((i) => i.name === input);
  if (!spec) throw bad(`"input" must name one of the model's inputs (${inputs.map((i) => i.name).join(', ')}), got ${JSON.stringify(c.input)}`);
  if (!['float32', 'float64', 'uint8'].includes(spec.type)) throw bad(`input "${spec.name}" is ${spec.type}; an image input is float32, float64 or uint8`);
  const layout = imageLayout(spec);
  const channels = c.channels ?? (layout.channels === 1 ? 'GRAY' : 'RGB');
  if (channels !== 'RGB' && channels !== 'BGR' && channels !== 'GRAY') throw bad(`"channels" must be RGB, BGR or GRAY, got ${JSON.stringify(c.channels)}`);
  if ((channels === 'GRAY') !== (layout.channels === 1)) throw bad(`"channels" is ${channels} but input "${spec.name}" has ${layout.channels} channel(s)`);
  for (const k of ['mean', 'std'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.length !== layout.channels || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(`"${k}" must be ${layout.channels} number(s), one per channel`);
    if (k === 'std' && v.some((x) => x === 0)) throw bad('"std" must not contain 0');
  }
  if (c.scale !== undefined && !(typeof c.scale === 'number' && Number.isFinite(c.scale) && c.scale > 0)) throw bad('"scale" must be a number > 0');
  if (c.fit !== undefined && !['fill', 'cover', 'contain'].includes(c.fit as string)) throw bad('"fit" must be fill, cover or contain');
  if (c.maxPixels !== undefined && !(Number.isInteger(c.maxPixels) && (c.maxPixels as number) >= 1)) throw bad('"maxPixels" must be an integer >= 1');
  return { ...(c as ImageInputConfig), input: spec.name, channels };
}

/**
 * Decodes one image and makes the `[1, C, H, W]` / `[1, H, W, C]` tensor of `spec`. BAD_INPUT for
 * bytes that are not a decodable image, an image over the pixel limit, or the wrong number of
 * colour channels (an alpha channel is dropped; a grey image for an RGB model is refused).
 *
 * @example
 * import { imageToTensor } from 'millwright';
 * const t = await imageToTensor(jpegBytes, { name: 'x', type: 'float32', shape: [1, 3, 224, 224] }, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
 * t.dims; // [1, 3, 224, 224]
 */
export async function imageToTensor(bytes: Uint8Array, spec: TensorSpec, config: ImageInputConfig = {}): Promise<TensorValue> {
  const layout = imageLayout(spec);
  const maxPixels = config.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `the body is not a decodable image (${(err as Error).message}); send a JPEG or PNG`, { cause: err });
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) throw new MillwrightError('PAYLOAD_TOO_LARGE', `image is ${w}x${h} = ${w * h} pixels; the limit is ${maxPixels} pixels`);
  const colour = (meta.channels ?? 0) - (meta.hasAlpha ? 1 : 0);
  if (colour !== layout.channels) {
    throw new MillwrightError('BAD_INPUT', `image has ${colour} colour channel(s) (${meta.space ?? 'unknown'}${meta.hasAlpha ? ' + alpha' : ''}); input "${spec.name}" takes ${layout.channels} (${config.channels ?? (layout.channels === 1 ? 'GRAY' : 'RGB')})`);
  }
  const H = layout.height > 0 ? layout.height : h;
  const W = layout.width > 0 ? layout.width : w;
  let pixels: Buffer;
  try {
    let img = sharp(bytes, { limitInputPixels: maxPixels }).removeAlpha();
    if (W !== w || H !== h) img = img.resize(W, H, { fit: config.fit ?? 'fill', background: { r: 0, g: 0, b: 0 } });
    // libvips hands a one-band image out as sRGB (three equal bands) unless told otherwise.
    if (layout.channels === 1) img = img.toColourspace('b-w');
    pixels = await img.raw().toBuffer();
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `the image could not be decoded (${(err as Error).message})`, { cause: err });
  }
  const C = layout.channels;
  if (pixels.length !== H * W * C) throw new MillwrightError('BAD_INPUT', `decoded image has ${pixels.length} values; expected ${H}x${W}x${C}`);
  return { type: spec.type, dims: layout.layout === 'NCHW' ? [1, C, H, W] : [1, H, W, C], data: arrange(pixels, H, W, C, layout.layout, spec.type, config) };
}

/**
 * HWC uint8 pixels -> the input's layout, channel order and scale: one pass per channel, with the
 * layout and channel order decided outside the loop (a 224x224 RGB image is 150,528 values; deciding
 * them per value made this loop the largest JS cost of an image request). Each value is still
 * `(px * scale - mean) / std` in doubles, then stored: the same numbers as before.
 */
function arrange(px: Uint8Array, H: number, W: number, C: number, layout: 'NCHW' | 'NHWC', type: string, config: ImageInputConfig): TensorValue['data'] {
  const n = H * W * C;
  const HW = H * W;
  const bgr = config.channels === 'BGR';
  // where channel c's values go: NCHW, one plane each (offset c * HW, step 1); NHWC, interleaved (offset c, step C)
  const planar = layout === 'NCHW';
  const step = planar ? 1 : C;
  if (type === 'uint8') {
    const out = new Uint8Array(n);
    for (let c = 0; c < C; c++) {
      const from = bgr ? C - 1 - c : c;
      for (let p = 0, o = planar ? c * HW : c, k = from; p < HW; p++, o += step, k += C) out[o] = px[k]!;
    }
    return out;
  }
  const out = type === 'float64' ? new Float64Array(n) : new Float32Array(n);
  const scale = config.scale ?? 1 / 255;
  const mean = config.mean ?? new Array<number>(C).fill(0);
  const std = config.std ?? new Array<number>(C).fill(1);
  for (let c = 0; c < C; c++) {
    const from = bgr ? C - 1 - c : c;
    const m = mean[c]!;
    const s = std[c]!;
    for (let p = 0, o = planar ? c * HW : c, k = from; p < HW; p++, o += step, k += C) out[o] = (px[k]! * scale - m) / s;
  }
  return out;
}
