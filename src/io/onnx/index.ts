/** ONNX export: `exportOnnx(spec, params)` → ModelProto bytes, and the small protobuf writer it uses. */
export {
  exportOnnx,
  ONNX_BATCH_DIM,
  ONNX_DEFAULT_OPSET,
  ONNX_INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_MAX_OPSET,
  ONNX_MIN_OPSET,
  ONNX_OUTPUT_NAME,
  type OnnxExportOptions,
} from './export.ts';
export { int8WeightsOfRecord, type OnnxInt8Weight } from './int8-weights.ts';
export { encodeVarint, float32LittleEndian, ProtoWriter, utf8Bytes, varintBytes, WireType } from './protobuf.ts';
