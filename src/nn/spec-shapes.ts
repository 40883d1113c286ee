import { ConfigError } from '../errors.ts';
import { convOutputSize } from '../tensor/kernels/im2col.ts';
import type { LayerSpec, ModelSpec } from './spec.ts';

/*
 * What a spec implies about the activations flowing through it: each layer's output shape per sample
 * ([features] or [channels, height, width]), the model's input width, and the work each layer does. Used to
 * check that layers chain (a model file, the CLI's --arch), and by the compiler, pruning reports and ONNX.
 */

/** The per-sample shape after every layer, and the model's input width. */
export interface SpecShapes {
  /** Values per sample the model takes (a row of features), or null when no layer fixes it. */
  readonly inputFeatures: number | null;
  /** The per-sample shape each layer takes, or null where it is not known yet (before the first linear or reshape). */
  readonly inputs: readonly (readonly number[] | null)[];
  /** The per-sample shape each layer gives, or null where it is not known. */
  readonly outputs: readonly (readonly number[] | null)[];
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const show = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Follows a spec's shapes from its input. A linear layer takes [inFeatures]; conv2d and the pooling layers
 * take [channels, height, width], so a convolutional model needs a `reshape` before its first conv2d (the
 * input's image shape) and a `flatten` before its first linear layer. Throws ConfigError naming the layer
 * whose input does not fit (wrong width, rank or channels; a window larger than its padded input).
 */
export function specShapes(spec: ModelSpec): SpecShapes {
  let current: readonly number[] | null = null;
  let inputFeatures: number | null = null;
  let sizeFixed = false; // an earlier layer has fixed the input width (or left it unknowable)
  const inputs: (readonly number[] | null)[] = [];
  const outputs: (readonly number[] | null)[] = [];
  spec.layers.forEach((layer, i) => {
    const where = `layer ${i} (${formatLayer(layer)})`;
    inputs.push(current);
    switch (layer.type) {
      case 'linear':
        if (current !== null && (current.length !== 1 || current[0] !== layer.inFeatures)) {
          const hint = current.length === 1 ? '' : ' (put a flatten layer before it)';
          throw new ConfigError(`${where} takes ${layer.inFeatures} features but gets ${show(current)}${hint}`);
        }
        if (!sizeFixed) inputFeatures = layer.inFeatures;
        current = [layer.outFeatures];
        break;
      case 'conv2d': {
        const [c, h, w] = imageInput(current, where);
        if (c !== layer.inChannels) throw new ConfigError(`${where} takes ${layer.inChannels} channels but gets ${show(current!)}`);
        current = [layer.outChannels, ...windowOutput(h, w, layer, where)];
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d': {
        const [c, h, w] = imageInput(current, where);
        current = [c, ...windowOutput(h, w, layer, where)];
        break;
      }
      case 'flatten':
        if (current !== null) current = [product(current)];
        break;
      case 'reshape':
        if (current !== null && product(current) !== product(layer.shape)) {
          throw new ConfigError(`${where} needs ${product(layer.shape)} values per sample but gets ${show(current)} = ${product(current)}`);
        }
        if (!sizeFixed) inputFeatures = product(layer.shape);
        current = [...layer.shape];
        break;
      default:
        break; // elementwise layers keep the shape
    }
    if (layer.type === 'linear' || layer.type === 'reshape' || layer.type === 'conv2d' || layer.type === 'maxpool2d' || layer.type === 'avgpool2d') sizeFixed = true;
    outputs.push(current);
  });
  return { inputFeatures, inputs, outputs };
}

function imageInput(current: readonly number[] | null, where: string): [number, number, number] {
  if (current === null) throw new ConfigError(`${where} needs images [channels, height, width]: start the model with a reshape layer giving the input's image shape`);
  if (current.length !== 3) throw new ConfigError(`${where} needs images [channels, height, width] but gets ${show(current)}`);
  return current as unknown as [number, number, number];
}

function windowOutput(h: number, w: number, layer: Extract<LayerSpec, { kernelSize: unknown }>, where: string): [number, number] {
  const [kh, kw] = layer.kernelSize;
  const outH = convOutputSize(h, kh, layer.stride[0], layer.padding[0]);
  const outW = convOutputSize(w, kw, layer.stride[1], layer.padding[1]);
  if (outH < 1 || outW < 1) throw new ConfigError(`${where}: the ${kh}×${kw} window does not fit its ${h}×${w} input padded by ${layer.padding[0]}×${layer.padding[1]}`);
  return [outH, outW];
}

/**
 * Multiply-adds ×2 per sample of each layer with weights (linear: in·out; conv2d: out·in/groups·kh·kw·Ho·Wo),
 * 0 for the others; the shapes must be known (specShapes). FLOPs of a pruned layer scale with its density.
 */
export function layerFlops(spec: ModelSpec): number[] {
  const { outputs } = specShapes(spec);
  return spec.layers.map((layer, i) => {
    if (layer.type === 'linear') return 2 * layer.inFeatures * layer.outFeatures;
    if (layer.type !== 'conv2d') return 0;
    const out = outputs[i]!;
    const [kh, kw] = layer.kernelSize;
    return 2 * layer.outChannels * (layer.inChannels / layer.groups) * kh * kw * out[1]! * out[2]!;
  });
}

/** One layer in a few characters: `linear(784→300)`, `conv2d(1→20, 5×5)`, `maxpool2d(2×2)`, `reshape([1, 28, 28])`. */
export function formatLayer(layer: LayerSpec): string {
  const pair = (p: readonly [number, number]): string => `${p[0]}×${p[1]}`;
  const extras = (l: { stride: readonly [number, number]; padding: readonly [number, number] }, defaultStride: readonly [number, number]): string =>
    (l.stride[0] !== defaultStride[0] || l.stride[1] !== defaultStride[1] ? `, stride ${pair(l.stride)}` : '') +
    (l.padding[0] !== 0 || l.padding[1] !== 0 ? `, padding ${pair(l.padding)}` : '');
  switch (layer.type) {
    case 'linear': return `linear(${layer.inFeatures}→${layer.outFeatures})`;
    case 'conv2d': return `conv2d(${layer.inChannels}→${layer.outChannels}, ${pair(layer.kernelSize)}${extras(layer, [1, 1])}${layer.groups === 1 ? '' : `, groups ${layer.groups}`})`;
    case 'maxpool2d':
    case 'avgpool2d': return `${layer.type}(${pair(layer.kernelSize)}${extras(layer, layer.kernelSize)})`;
    case 'reshape': return `reshape(${show(layer.shape)})`;
    case 'dropout': return `dropout(${layer.p})`;
    default: return layer.type;
  }
}
