/** sparsegrad/node — file I/O, data sets and model files on disk (Node only). */
export { loadDigits, loadFashionMnist, loadIdxDirectory, loadDataset, readIdxFile, DIGITS_DIR, FASHION_MNIST_DIR, DEFAULT_MAX_IDX_BYTES, type IdxReadLimits } from './data.ts';
export { saveModel, saveModelFile, loadModelFile, readModelBytes, readModelFileHeader } from './model-io.ts';
export { writeFileAtomically } from './files.ts';
export { checkOutputPath, checkOutputDirectory, type OutputOptions } from './output-path.ts';
export { readImages, DEFAULT_MAX_IMAGE_PIXELS, DEFAULT_MAX_JSON_BYTES, type Images, type ReadImagesOptions } from './image.ts';
export { nodeThreadHost } from './threads.ts';
