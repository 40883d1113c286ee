/**
 * sparsegrad/infer — run trained models, nothing else: model-file bytes → a compiled model (CSR weights stay
 * CSR), on the WebAssembly SIMD kernels compiled asynchronously (the TypeScript kernels where the engine has no
 * SIMD), canvas pixels → an input row. Browser-safe, and no training code: this entry's bundle is a small
 * fraction of the main one (its gzipped size is checked by `npm test`, test/infer/bundle-size.test.ts).
 *
 *     import { compileModelBytes, pixelsToInput } from 'sparsegrad/infer';
 *     const model = await compileModelBytes(new Uint8Array(await (await fetch('model.safetensors')).arrayBuffer()));
 *     const digit = model.predictClasses(pixelsToInput(context.getImageData(0, 0, 280, 280)), 1)[0];
 */
export * from '../errors.ts';
export { compileModelBytes, compileModelBytesSync, type CompileModelBytesOptions } from './model-bytes.ts';
export { recordLayers } from './record-layers.ts';
export { pixelsToInput, type InkMode, type PixelImage, type PixelsToInputOptions } from './pixels.ts';
export { deserializeModel, readModelHeader, type ModelHeader, type ModelLimits, type ModelRecord } from '../io/model-file.ts';
export {
  compileInference, prepareWasmSimd, wasmSimdSupported, defaultBackendName, BACKEND_NAMES,
  type CompileOptions, type CsrInferenceLayer, type InferenceLayer, type InferenceModel, type InferenceStrategy, type KernelName, type LayerReport,
  type ConvInferenceLayer, type ConvPool,
} from '../sparse/index.ts';
export { isFloat32Array, isFloat64Array, typedArrayName } from '../tensor/typed-array.ts';
