export { quantizeRowsInt8, dequantizeRowsInt8, fakeQuantizeRowsInt8 } from './int8.ts';
export { kmeansCodebook, type KmeansOptions, type KmeansResult } from './kmeans.ts';
export { quantizeModel, quantizableParameters, QUANTIZE_METHODS, type QuantizeMethod, type QuantizeOptions, type ModelQuantization } from './quantize-model.ts';
export { SharedWeightTraining, Int8AwareTraining, centroidGradients } from './trained.ts';
export { quantizeAndFineTune, type FineTuneQuantizedOptions, type FineTuneQuantizedResult } from './fine-tune.ts';
export { compressionStages, type CompressionStages } from './stages.ts';
