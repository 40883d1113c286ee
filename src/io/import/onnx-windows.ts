/**
 * ONNX Conv, MaxPool and AveragePool nodes → the model spec's conv2d, maxpool2d and avgpool2d, for the ONNX
 * importer (onnx.ts). Read: kernel_shape, strides, pads, group, and count_include_pad where padding makes it
 * matter. The spec's windows are 2-D with the same zero padding on both sides of each axis, so what it cannot
 * express is refused with E_ONNX_UNSUPPORTED naming the node: dilations other than 1, ceil_mode = 1,
 * auto_pad SAME_UPPER/SAME_LOWER, pads that differ between the two sides, an AveragePool that excludes the padding from its averages (sparsegrad's counts it, as
 * PyTorch's AvgPool2d does by default).
 */
import { ModelFormatError } from '../../errors.ts';
import type { Conv2dSpec, Pool2dSpec } from '../../nn/spec.ts';
import type { OnnxNode } from '../onnx/onnx-graph.ts';

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `ONNX: ${message}`);
}

/** kernel_shape (or `fallback`, the weight's), strides, pads of a 2-D window node, checked. */
function windowOf(node: OnnxNode, what: string, fallback: readonly [number, number] | null): { kernelSize: [number, number]; stride: [number, number]; padding: [number, number] } {
  const ints = (name: string): readonly number[] | undefined => node.attributes.get(name)?.ints;
  const autoPad = node.attributes.get('auto_pad')?.s ?? 'NOTSET';
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') fail('E_ONNX_UNSUPPORTED', `${what} has auto_pad ${autoPad}; only explicit pads are imported`);
  if ((node.attributes.get('ceil_mode')?.i ?? 0) !== 0) fail('E_ONNX_UNSUPPORTED', `${what} has ceil_mode = 1; only floor (the default) is imported`);
  const dilations = ints('dilations');
  if (dilations !== undefined && dilations.some((d) => d !== 1)) fail('E_ONNX_UNSUPPORTED', `${what} has dilations [${dilations.join(', ')}]; only 1 is imported`);
  const kernel = ints('kernel_shape') ?? fallback;
  if (kernel === null || kernel === undefined) fail('E_ONNX_GRAPH', `${what} has no kernel_shape`);
  if (fallback !== null && (kernel[0] !== fallback[0] || kernel[1] !== fallback[1])) {
    fail('E_BAD_SHAPE', `${what} has kernel_shape [${kernel.join(', ')}] but its weight is ${fallback[0]}×${fallback[1]}`);
  }
  const strides = ints('strides') ?? [1, 1];
  const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : ints('pads') ?? [0, 0, 0, 0];
  if (kernel.length !== 2 || strides.length !== 2 || pads.length !== 4) {
    fail('E_ONNX_UNSUPPORTED', `${what} is not a 2-D window (kernel_shape [${kernel.join(', ')}], strides [${strides.join(', ')}], pads [${pads.join(', ')}]); only 2-D is imported`);
  }
  if (pads[0] !== pads[2] || pads[1] !== pads[3]) fail('E_ONNX_UNSUPPORTED', `${what} pads [${pads.join(', ')}] unevenly; only the same padding on both sides is imported`);
  const positive = (values: readonly number[], min: number): boolean => values.every((v) => Number.isSafeInteger(v) && v >= min);
  if (!positive(kernel, 1) || !positive(strides, 1) || !positive(pads, 0)) {
    fail('E_ONNX_GRAPH', `${what} has kernel_shape [${kernel.join(', ')}], strides [${strides.join(', ')}], pads [${pads.join(', ')}]; they must be positive (pads ≥ 0)`);
  }
  return { kernelSize: [kernel[0]!, kernel[1]!], stride: [strides[0]!, strides[1]!], padding: [pads[0]!, pads[1]!] };
}

/**
 * The conv2d spec (bias left false: the importer sets it) of a Conv node whose weight has `weightDims`
 * [O, C/group, kh, kw], on an input of `inChannels`. Throws ModelFormatError.
 */
export function convSpec(node: OnnxNode, what: string, weightDims: readonly number[], inChannels: number): Conv2dSpec {
  if (weightDims.length !== 4) fail('E_BAD_SHAPE', `${what}: its weight has shape [${weightDims.join(', ')}]; a 2-D convolution's is [out, in/group, kh, kw]`);
  const [outChannels, perGroup, kh, kw] = weightDims as [number, number, number, number];
  const groups = node.attributes.get('group')?.i ?? 1;
  if (!(Number.isSafeInteger(groups) && groups >= 1)) fail('E_ONNX_GRAPH', `${what} has group ${groups}`);
  if (perGroup * groups !== inChannels || outChannels % groups !== 0 || outChannels === 0) {
    fail('E_BAD_SHAPE', `${what}: a weight [${weightDims.join(', ')}] with group ${groups} does not fit an input of ${inChannels} channels`);
  }
  return { type: 'conv2d', inChannels, outChannels, groups, bias: false, ...windowOf(node, what, [kh, kw]) };
}

/** The maxpool2d or avgpool2d spec of a MaxPool or AveragePool node. Throws ModelFormatError. */
export function poolSpec(node: OnnxNode, what: string): Pool2dSpec {
  if ((node.attributes.get('storage_order')?.i ?? 0) !== 0) fail('E_ONNX_UNSUPPORTED', `${what} has storage_order = 1; only row-major is imported`);
  const window = windowOf(node, what, null);
  const padded = window.padding[0] > 0 || window.padding[1] > 0;
  if (node.opType === 'AveragePool' && padded && (node.attributes.get('count_include_pad')?.i ?? 0) !== 1) {
    fail('E_ONNX_UNSUPPORTED', `${what} leaves its padding out of the averages (count_include_pad = 0); sparsegrad's average pooling counts it`);
  }
  return { type: node.opType === 'MaxPool' ? 'maxpool2d' : 'avgpool2d', ...window };
}
