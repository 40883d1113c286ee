/**
 * DequantizeLinear on constant inputs, folded at import time into the float tensor it stands for:
 *
 *     y = (x − zero_point) · scale        (ONNX DequantizeLinear-10/13, computed in float32)
 *
 * per tensor (a scalar scale) or per axis (a 1-D scale along `axis`, default 1, negative counts from the end).
 * This is how int8 weights arrive in an ONNX graph — `sparsegrad export --onnx` of an int8 model writes INT8
 * codes + per-row scales + zero points behind DequantizeLinear(axis 0), as onnxruntime's static weight
 * quantization does — so an imported layer gets exactly the float weights the graph computes with. A sparse
 * INT8 initializer stays sparse when its zero points are 0 (the implicit zeros then stay 0); otherwise the
 * result is dense. Codes may be INT8 or UINT8, scales any floating-point type.
 *
 * Cost: O(elements of x). Throws ModelFormatError (E_BAD_DTYPE, E_BAD_SHAPE, E_ONNX_GRAPH, E_ONNX_TENSOR) for
 * inputs that do not describe one dequantization.
 */
import { ModelFormatError } from '../../errors.ts';
import { OnnxDataType, onnxTypeName, type OnnxSparseTensor, type OnnxTensor } from '../onnx/onnx-tensor.ts';

/** The constant inputs of one DequantizeLinear node, and where to say the problem is. */
export interface DequantizeInputs {
  readonly what: string;
  readonly output: string;
  readonly x: OnnxTensor | OnnxSparseTensor;
  readonly scale: OnnxTensor;
  readonly zeroPoint: OnnxTensor | null;
  /** The node's `axis` attribute, if it has one. */
  readonly axis: number | undefined;
}

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `ONNX: ${message}`);
}

/** The float tensor a DequantizeLinear of constants produces (see the file comment). */
export function foldDequantize({ what, output, x, scale, zeroPoint, axis }: DequantizeInputs): OnnxTensor | OnnxSparseTensor {
  const codeTypes: number[] = [OnnxDataType.INT8, OnnxDataType.UINT8];
  if (!codeTypes.includes(x.dataType)) fail('E_BAD_DTYPE', `${what}: its input "${x.name}" is ${onnxTypeName(x.dataType)}; imported dequantization takes INT8 or UINT8 codes`);
  if (scale.floats === null) fail('E_BAD_DTYPE', `${what}: its scale "${scale.name}" is ${onnxTypeName(scale.dataType)}; it must be floating point`);
  if (zeroPoint !== null && zeroPoint.dataType !== x.dataType) {
    fail('E_BAD_DTYPE', `${what}: its zero point "${zeroPoint.name}" is ${onnxTypeName(zeroPoint.dataType)} but its codes are ${onnxTypeName(x.dataType)}; ONNX requires one type`);
  }
  for (const s of scale.floats) if (!Number.isFinite(s)) fail('E_ONNX_TENSOR', `${what}: its scale "${scale.name}" holds ${s}; scales must be finite`);

  // Which scale and zero point apply to element i: one for all (per tensor), or the one of i's index along `axis`.
  const rank = x.dims.length;
  const perTensor = scale.floats.length === 1 && scale.dims.length <= 1;
  let along = 0, inner = 1;
  if (!perTensor) {
    const resolved = (axis ?? 1) < 0 ? (axis ?? 1) + rank : (axis ?? 1);
    if (!(resolved >= 0 && resolved < rank)) fail('E_ONNX_GRAPH', `${what} has axis ${axis ?? 1}, outside the ${rank} dimensions of "${x.name}"`);
    along = x.dims[resolved]!;
    inner = x.dims.slice(resolved + 1).reduce((a, b) => a * b, 1);
    if (scale.dims.length !== 1 || scale.dims[0] !== along) {
      fail('E_BAD_SHAPE', `${what}: its scale "${scale.name}" has shape [${scale.dims.join(', ')}]; per axis ${resolved} of [${x.dims.join(', ')}] it must be [${along}] (or a scalar)`);
    }
  }
  const channels = perTensor ? 1 : along;
  const zeros = zeroPoint?.ints ?? new Array<number>(channels).fill(0);
  if (zeros.length !== channels || (zeroPoint !== null && zeroPoint.dims.join() !== scale.dims.join())) {
    fail('E_BAD_SHAPE', `${what}: its zero point "${zeroPoint!.name}" has shape [${zeroPoint!.dims.join(', ')}], its scale [${scale.dims.join(', ')}]; they must match`);
  }
  const channelOf = (i: number): number => (perTensor ? 0 : Math.floor(i / inner) % along);
  const dequantize = (code: number, i: number): number => {
    const c = channelOf(i);
    return (code - zeros[c]!) * scale.floats![c]!; // stored as float32: one rounding, like ONNX's float arithmetic
  };

  if ('linearIndices' in x) {
    if (zeros.every((z) => z === 0)) {
      const values = new Float32Array(x.values.length);
      for (let k = 0; k < values.length; k++) values[k] = dequantize(x.values[k]!, x.linearIndices[k]!);
      return { name: output, dims: x.dims, dataType: scale.dataType, values, linearIndices: x.linearIndices };
    }
    // Zero points other than 0 turn the implicit zeros into −zero_point · scale: the result is dense.
    const count = x.dims.reduce((a, b) => a * b, 1);
    const floats = new Float32Array(count);
    for (let i = 0; i < count; i++) floats[i] = dequantize(0, i);
    for (let k = 0; k < x.values.length; k++) floats[x.linearIndices[k]!] = dequantize(x.values[k]!, x.linearIndices[k]!);
    return { name: output, dims: x.dims, dataType: scale.dataType, floats, ints: null };
  }
  const codes = x.ints!;
  const floats = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) floats[i] = dequantize(codes[i]!, i);
  return { name: output, dims: x.dims, dataType: scale.dataType, floats, ints: null };
}
