// The browser example: draw on the canvas, and two models classify the drawing as you go — LeNet-300-100
// (dense.safetensors) and the same network pruned to 95 % (sparse.safetensors, CSR) — each with its latency.
// Everything comes from sparsegrad/infer: compileModelBytes (WebAssembly SIMD kernels, compiled
// asynchronously, or the TypeScript kernels where SIMD is missing or ?backend=js asks for them) and
// pixelsToInput (canvas pixels → a 28×28 MNIST-like input row). Plain JavaScript: no build step for the page.
import { compileModelBytes, pixelsToInput, readModelHeader } from './lib/infer/index.js';

const requested = new URLSearchParams(location.search).get('backend'); // 'js' or 'wasm-simd', else the default
const canvas = document.getElementById('draw');
const context = canvas.getContext('2d', { willReadFrequently: true });
const preview = document.getElementById('preview').getContext('2d');
const status = document.getElementById('status');

/** Fetches a model file and compiles it; returns what the page shows about it. */
async function load(name) {
  const response = await fetch(`models/${name}.safetensors`);
  if (!response.ok) throw new Error(`models/${name}.safetensors: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const model = await compileModelBytes(bytes, requested === null ? {} : { backend: requested });
  const layers = model.report(1);
  const weights = layers.reduce((n, l) => n + l.inFeatures * l.outFeatures, 0);
  const nonZero = layers.reduce((n, l) => n + l.nnz, 0);
  const training = readModelHeader(bytes).training ?? {};
  return { name, model, fileBytes: bytes.length, weights, nonZero, kernels: model.kernels(1), accuracy: training.testAccuracy };
}

/** Median µs per predict of `x` over a few timed loops (each long enough for the clock to resolve it). */
function latency(model, x) {
  let calls = 1;
  for (let t0 = performance.now(); performance.now() - t0 < 4 && calls < 4096; calls *= 2) for (let i = 0; i < calls; i++) model.predict(x, 1);
  const samples = [];
  for (let s = 0; s < 5; s++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) model.predict(x, 1);
    samples.push(((performance.now() - t0) * 1000) / calls);
  }
  return samples.sort((a, b) => a - b)[2];
}

function softmax(logits) {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function bars(id) {
  const root = document.getElementById(`${id}-bars`);
  return Array.from({ length: 10 }, (_, digit) => {
    const label = document.createElement('span');
    label.textContent = String(digit);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = bar.appendChild(document.createElement('div'));
    const value = document.createElement('span');
    root.append(label, bar, value);
    return { fill, value };
  });
}

const ui = { dense: bars('dense'), sparse: bars('sparse') };
let models = null;

/** Classifies the canvas with both models; with `time`, also measures each model's latency. */
function classify(time) {
  const input = pixelsToInput(context.getImageData(0, 0, canvas.width, canvas.height));
  const image = preview.createImageData(28, 28);
  input.forEach((v, i) => image.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i));
  preview.putImageData(image, 0, 0);
  const blank = input.every((v) => v === 0);
  const result = { blank };
  for (const { name, model } of models) {
    const probabilities = softmax(Array.from(model.predict(input, 1)));
    const best = probabilities.indexOf(Math.max(...probabilities));
    result[name] = blank ? null : best;
    document.getElementById(`${name}-class`).textContent = blank ? '–' : String(best);
    ui[name].forEach(({ fill, value }, digit) => {
      fill.style.width = blank ? '0' : `${(100 * probabilities[digit]).toFixed(1)}%`;
      value.textContent = blank ? '' : `${(100 * probabilities[digit]).toFixed(1)}%`;
    });
    if (time && !blank) document.getElementById(`${name}-latency`).textContent = `${latency(model, input).toFixed(1)} µs per prediction`;
  }
  return result;
}

function clear() {
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  for (const name of ['dense', 'sparse']) document.getElementById(`${name}-latency`).textContent = '';
  if (models !== null) classify(false);
}

// Drawing: round black strokes, classified once per frame while drawing and timed when the stroke ends.
let last = null;
let pending = false;
const at = (event) => {
  const box = canvas.getBoundingClientRect();
  return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
};
canvas.addEventListener('pointerdown', (event) => {
  canvas.setPointerCapture(event.pointerId);
  last = at(event);
});
canvas.addEventListener('pointermove', (event) => {
  if (last === null) return;
  const point = at(event);
  context.strokeStyle = '#000';
  context.lineWidth = 20;
  context.lineCap = 'round';
  context.beginPath();
  context.moveTo(...last);
  context.lineTo(...point);
  context.stroke();
  last = point;
  if (!pending && models !== null) {
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      classify(false);
    });
  }
});
const finish = () => {
  if (last !== null && models !== null) classify(true);
  last = null;
};
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
document.getElementById('clear').addEventListener('click', clear);

/** For tests and demos: draws RGBA pixels (base64, width × height) on the canvas and classifies them. */
async function drawPixels(base64, width, height) {
  await ready;
  const bytes = Uint8ClampedArray.from(atob(base64), (c) => c.charCodeAt(0));
  context.putImageData(new ImageData(bytes, width, height), 0, 0);
  return classify(true);
}

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
const ready = (async () => {
  clear();
  models = await Promise.all([load('dense'), load('sparse')]);
  for (const m of models) {
    const sparsity = 1 - m.nonZero / m.weights;
    const accuracy = typeof m.accuracy === 'number' ? `, ${(100 * m.accuracy).toFixed(2)} % on the test digits` : '';
    document.getElementById(`${m.name}-facts`).textContent =
      `${m.nonZero.toLocaleString('en')} of ${m.weights.toLocaleString('en')} weights kept (${(100 * sparsity).toFixed(1)} % pruned), ${kib(m.fileBytes)} file${accuracy}; kernels: ${m.kernels.join(', ')}`;
  }
  const backend = models[0].model.backend;
  status.textContent = `backend: ${backend === 'wasm-simd' ? 'WebAssembly SIMD' : 'TypeScript (the fallback)'} · cross-origin isolated: ${self.crossOriginIsolated ? 'yes' : 'no'} · draw a digit in the box`;
  status.dataset.backend = backend;
  return { backend, crossOriginIsolated: self.crossOriginIsolated };
})();
ready.catch((error) => {
  status.textContent = `could not start: ${error.message}`;
  status.className = 'error';
  console.error(error);
});
window.demo = { ready, drawPixels, classify: () => classify(true) };
