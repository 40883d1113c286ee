import { specShapes } from '../../nn/spec-shapes.ts';
import { predict } from '../../nn/train.ts';
import { readImages } from '../../node/image.ts';
import { readIdxFile } from '../../node/data.ts';
import { softmax } from '../../tensor/ops.ts';
import { DataFormatError } from '../../errors.ts';
import { optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { checkFiniteOutputs, loadModel } from '../common.ts';
import { createOutput, percent } from '../output.ts';

export const PREDICT_HELP = `usage: sparsegrad predict --model FILE --input PATH [--labels IDX] [--pixel-scale 255|1] [--json]

Predicts the class of each input image. PATH is a PNG (8-bit gray or RGB) or binary PGM image of the
model's input size (28×28 for MNIST models), an IDX image file (raw or .gz, many images), or a JSON array
of pixel values: one image [p, ...] or several [[p, ...], ...]. With --labels (an IDX label file) it also
reports the accuracy. A model whose outputs are not finite numbers is an error (exit 3), never a class.

  --pixel-scale S   the scale of JSON pixels: 255 (default: integers 0-255) or 1 (numbers in [0, 1]);
                    a value outside the scale is an error
`;

export async function predictCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, input: { type: 'string' }, labels: { type: 'string' }, 'pixel-scale': { type: 'string' }, json: { type: 'boolean' },
  });
  const out = createOutput({ json: values['json'] === true, quiet: true });
  const scale = stringFlag(values, 'pixel-scale', '255');
  if (scale !== '255' && scale !== '1') throw new UsageError(`--pixel-scale must be 255 or 1, got '${scale}'`);
  const model = await loadModel(stringFlag(values, 'model'));
  const images = readImages(stringFlag(values, 'input'), { pixelScale: scale === '255' ? 255 : 1 });
  if (images.count === 0) throw new DataFormatError(`${stringFlag(values, 'input')}: holds no images`);
  const features = images.pixels.length / Math.max(images.count, 1);
  const expected = specShapes(model.spec()).inputFeatures;
  if (expected !== null && expected !== features) {
    throw new UsageError(`the model expects ${expected} input values per image, the input has ${features} (${images.width}×${images.height})`);
  }
  const logits = predict(model, images.pixels, images.count);
  const classes = logits.shape[1]!;
  checkFiniteOutputs(logits.data, classes, 'the model');
  const probabilities = softmax(logits);
  const predictions = Array.from({ length: images.count }, (_, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities.data[i * classes + c]! > probabilities.data[i * classes + best]!) best = c;
    return { class: best, probability: probabilities.data[i * classes + best]! };
  });
  const labelsPath = optionalString(values, 'labels');
  let accuracy: number | null = null;
  if (labelsPath !== undefined) {
    const labels = readIdxFile(labelsPath);
    if (labels.data.length !== images.count) throw new UsageError(`${labels.data.length} labels for ${images.count} images`);
    accuracy = predictions.filter((p, i) => p.class === labels.data[i]).length / images.count;
  }
  if (images.count === 1) out.result(`class ${predictions[0]!.class} (probability ${percent(predictions[0]!.probability, 1)})`);
  else {
    out.result(predictions.slice(0, 20).map((p, i) => `${i}: ${p.class} (${percent(p.probability, 1)})`).join('\n') + (images.count > 20 ? `\n… ${images.count - 20} more` : ''));
  }
  if (accuracy !== null) out.result(`accuracy ${percent(accuracy)} on ${images.count} images`);
  out.emitJson({ count: images.count, predictions: predictions.map((p) => p.class), probabilities: predictions.map((p) => p.probability), ...(accuracy === null ? {} : { accuracy }) });
}
