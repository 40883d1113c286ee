import { ConfigError } from '../errors.ts';
import { ACTIVATIONS, type Activation } from './build.ts';
import type { LayerSpec, ModelSpec } from './spec.ts';
import { specShapes } from './spec-shapes.ts';

/*
 * The architecture strings of the command line (`--arch`): layers separated by '-', input first.
 *
 *   784            the input: a row of 784 features            (first token only)
 *   1x28x28        the input: images of 1 channel, 28×28      (first token only; adds a reshape layer)
 *   300            a linear layer with 300 outputs (a flatten layer is added before it after conv layers)
 *   c20k5          a conv2d layer: 20 output channels, 5×5 kernel; k3x5 for 3×5, then optional s2 (stride)
 *                  and p1 (zero padding): c32k3p1, c64k3s2p1
 *   m2             2×2 max pooling (stride = window); optional s and p as for conv: m3s2p1
 *   a2             2×2 average pooling, the same options
 *
 * The activation (relu by default) follows every conv2d and every linear layer but the last one, so the
 * model ends in logits. Presets: lenet5 (LeNet-5-Caffe, 431,080 parameters) and lenet300 (LeNet-300-100).
 */

/** Named architectures `--arch` accepts besides the grammar. */
export const ARCHITECTURE_PRESETS: Readonly<Record<string, string>> = {
  lenet5: '1x28x28-c20k5-m2-c50k5-m2-500-10',
  lenet300: '784-300-100-10',
};

const WINDOW = /^(?<kind>[cma])(?<size>\d+)?(?:k(?<kh>\d+)(?:x(?<kw>\d+))?)?(?:s(?<stride>\d+))?(?:p(?<pad>\d+))?$/;

/** The grammar in one line, for error messages and help. */
export const ARCHITECTURE_GRAMMAR = "layers separated by '-': the input (784 or 1x28x28), then widths (300), convolutions (c20k5, c32k3s2p1) and pooling (m2, a2); or a preset (lenet5, lenet300)";

/**
 * The ModelSpec an architecture string describes (see the grammar above), with `activation` after every
 * conv2d and every linear layer but the last. Throws ConfigError naming the token that does not parse or
 * the layer whose input does not fit (specShapes).
 *
 * @example
 * ```ts
 * import { architectureSpec, buildModel, Rng } from 'sparsegrad';
 *
 * const lenet5 = buildModel(architectureSpec('lenet5'), new Rng(0)); // 1x28x28-c20k5-m2-c50k5-m2-500-10
 * console.log(lenet5.parameterCount()); // 431080
 * ```
 */
export function architectureSpec(text: string, activation: Activation = 'relu'): ModelSpec {
  if (!ACTIVATIONS.includes(activation)) throw new ConfigError(`unknown activation '${activation}' (expected one of ${ACTIVATIONS.join(', ')})`);
  const source = ARCHITECTURE_PRESETS[text] ?? text;
  const tokens = typeof source === 'string' ? source.split('-') : [];
  const bad = (token: string, why: string): never => {
    throw new ConfigError(`architecture '${text}': ${why} at '${token}' (${ARCHITECTURE_GRAMMAR})`);
  };
  if (tokens.length < 2) bad(String(text), 'needs an input and at least one layer');
  const layers: LayerSpec[] = [];
  const input = tokens[0]!.split('x').map(Number);
  if (!input.every((d) => Number.isSafeInteger(d) && d > 0) || (input.length !== 1 && input.length !== 3)) bad(tokens[0]!, 'the input is a width (784) or an image shape (1x28x28)');
  let shape: 'flat' | 'image' = input.length === 3 ? 'image' : 'flat';
  let width = input.length === 1 ? input[0]! : 0; // features of the current flat activation
  let channels = input.length === 3 ? input[0]! : 0;
  if (shape === 'image') layers.push({ type: 'reshape', shape: input });
  tokens.slice(1).forEach((token, k) => {
    const last = k === tokens.length - 2;
    if (/^\d+$/.test(token)) {
      const outFeatures = Number(token);
      if (!Number.isSafeInteger(outFeatures) || outFeatures <= 0) bad(token, 'a width must be a positive integer');
      if (shape === 'image') {
        layers.push({ type: 'flatten' });
        width = flatWidth(layers);
        shape = 'flat';
      }
      layers.push({ type: 'linear', inFeatures: width, outFeatures, bias: true });
      width = outFeatures;
      if (!last) layers.push({ type: activation });
      return;
    }
    const match = WINDOW.exec(token)?.groups;
    if (match === undefined) return bad(token, 'unknown layer');
    if (shape !== 'image') bad(token, 'convolution and pooling need images: start with an image shape such as 1x28x28, before any width');
    const number = (value: string | undefined, fallback: number, min: number): number => {
      const n = value === undefined ? fallback : Number(value);
      if (!Number.isSafeInteger(n) || n < min) bad(token, `sizes must be integers ≥ ${min}`);
      return n;
    };
    if (match['kind'] === 'c') {
      const outChannels = number(match['size'], NaN, 1);
      const kh = number(match['kh'], NaN, 1);
      const kw = number(match['kw'], kh, 1);
      const stride = number(match['stride'], 1, 1);
      const pad = number(match['pad'], 0, 0);
      layers.push({ type: 'conv2d', inChannels: channels, outChannels, kernelSize: [kh, kw], stride: [stride, stride], padding: [pad, pad], groups: 1, bias: true });
      channels = outChannels;
      if (!last) layers.push({ type: activation });
    } else {
      if (match['kh'] !== undefined) bad(token, 'a pooling window is written m2 or m2s1p1');
      const k = number(match['size'], NaN, 1);
      const stride = number(match['stride'], k, 1);
      const pad = number(match['pad'], 0, 0);
      layers.push({ type: match['kind'] === 'm' ? 'maxpool2d' : 'avgpool2d', kernelSize: [k, k], stride: [stride, stride], padding: [pad, pad] });
    }
  });
  const spec = { layers };
  specShapes(spec); // every layer fits its input (ConfigError otherwise)
  return spec;
}

/** The features of the flattened output of `layers` (they end in image-shaped activations). */
function flatWidth(layers: readonly LayerSpec[]): number {
  const { outputs } = specShapes({ layers });
  return outputs[outputs.length - 1]!.reduce((a, b) => a * b, 1);
}
