/** sparsegrad/node — file I/O, data sets and model files on disk (Node only). */
export { loadDigits, loadFashionMnist, loadIdxDirectory, loadDataset, readIdxFile, DIGITS_DIR, FASHION_MNIST_DIR } from './data.ts';
export { saveModel, saveModelFile, loadModelFile, readModelBytes, readModelFileHeader } from './model-io.ts';
export { writeFileAtomically } from './files.ts';
export { readImages, type Images } from './image.ts';
