/**
 * sparsegrad/node — the Node-only part of the API: data sets on disk (the built-in digits, Fashion-MNIST, any
 * MNIST-style IDX directory), model files on disk (strict loading, atomic saving), image files for
 * prediction, and the output-path rules every write follows. The rest of the library is in `sparsegrad`.
 */
export {
  loadDigits, loadFashionMnist, loadIdxDirectory, loadDataset, readIdxFile, DIGITS_DIR, FASHION_MNIST_DIR, DEFAULT_MAX_IDX_BYTES,
  type IdxReadLimits, type LoadIdxOptions,
} from './data.ts';
export { saveModel, saveModelFile, loadModelFile, readModelFileHeader } from './model-io.ts';
export { writeFileAtomically } from './files.ts';
export { checkOutputPath, type OutputOptions } from './output-path.ts';
export { readImages, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_JSON_BYTES, type Images, type ReadImagesOptions } from './image.ts';
export { nodeThreadHost } from './threads.ts';
