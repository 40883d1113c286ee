export { compileModel, inferenceLayers } from './compile-model.ts';
