/**
 * ONNX export tests.
 *  1. The protobuf writer, checked byte-for-byte (varint edge cases) and through a tiny reader written here.
 *  2. The exported ModelProto's structure, decoded with the same reader (onnx.proto field numbers in
 *     src/io/onnx/export.ts), and that the bytes are deterministic.
 *  3. onnxruntime-node runs the exported file: its logits must match a plain float64 forward pass written
 *     in this file (max |ort − ref| / max |ref| ≤ 1e-5, i.e. relative to the output's scale) and its argmax
 *     classes must match exactly, at batch 1 and batch 7.
 *  4. Typed errors for bad specs and parameters.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ConfigError, DTypeError, NonFiniteError, ShapeError } from '../../src/errors.ts';
import { exportOnnx } from '../../src/io/onnx/export.ts';
import { encodeVarint, ProtoWriter, utf8Bytes, varintBytes, WireType } from '../../src/io/onnx/protobuf.ts';
import type { LayerSpec, ModelSpec } from '../../src/nn/spec.ts';
import { Rng } from '../../src/tensor/rng.ts';

// ---- a tiny protobuf reader (tests only) ---------------------------------------------------------------

interface Field {
  wireType: number;
  /** VARINT: the value as bigint. I32/I64: the raw little-endian bytes. LEN: the payload bytes. */
  varint?: bigint;
  bytes?: Uint8Array;
}
type Message = Map<number, Field[]>;

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 127) << shift;
    if ((b & 128) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
}

function readMessage(buf: Uint8Array): Message {
  const fields: Message = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const fieldNumber = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    let field: Field;
    if (wireType === WireType.VARINT) {
      const [v, next] = readVarint(buf, pos);
      field = { wireType, varint: v };
      pos = next;
    } else if (wireType === WireType.LEN) {
      const [len, next] = readVarint(buf, pos);
      const end = next + Number(len);
      if (end > buf.length) throw new Error('truncated LEN field');
      field = { wireType, bytes: buf.subarray(next, end) };
      pos = end;
    } else if (wireType === WireType.I32 || wireType === WireType.I64) {
      const size = wireType === WireType.I32 ? 4 : 8;
      field = { wireType, bytes: buf.subarray(pos, pos + size) };
      pos += size;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
    const list = fields.get(fieldNumber) ?? [];
    list.push(field);
    fields.set(fieldNumber, list);
  }
  if (pos !== buf.length) throw new Error('message overran its bytes');
  return fields;
}

function all(m: Message, n: number): Field[] {
  return m.get(n) ?? [];
}
function one(m: Message, n: number): Field {
  const list = all(m, n);
  if (list.length !== 1) throw new Error(`field ${n}: expected exactly one, got ${list.length}`);
  return list[0]!;
}
const int = (m: Message, n: number): number => Number(one(m, n).varint!);
const str = (m: Message, n: number): string => new TextDecoder().decode(one(m, n).bytes!);
const strs = (m: Message, n: number): string[] => all(m, n).map((f) => new TextDecoder().decode(f.bytes!));
const sub = (m: Message, n: number): Message => readMessage(one(m, n).bytes!);
const subs = (m: Message, n: number): Message[] => all(m, n).map((f) => readMessage(f.bytes!));

function readPackedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [v, next] = readVarint(bytes, pos);
    out.push(v);
    pos = next;
  }
  return out;
}

// ---- models and a float64 reference forward ------------------------------------------------------------

type Params = Map<string, Float32Array>;

function linear(inFeatures: number, outFeatures: number, bias = true): LayerSpec {
  return { type: 'linear', inFeatures, outFeatures, bias };
}

/** He-normal weights and small normal biases; `zeroFraction` of each weight matrix set to exactly 0. */
function randomParams(spec: ModelSpec, rng: Rng, zeroFraction = 0): Params {
  const params: Params = new Map();
  spec.layers.forEach((layer, i) => {
    if (layer.type !== 'linear') return;
    const w = new Float32Array(layer.outFeatures * layer.inFeatures);
    const std = Math.sqrt(2 / layer.inFeatures);
    for (let j = 0; j < w.length; j++) w[j] = rng.normal() * std;
    if (zeroFraction > 0) {
      const order = rng.shuffle(Array.from(w.keys()));
      const zeros = Math.round(zeroFraction * w.length);
      for (let j = 0; j < zeros; j++) w[order[j]!] = 0;
    }
    params.set(`layers.${i}.weight`, w);
    if (layer.bias) {
      const b = new Float32Array(layer.outFeatures);
      for (let j = 0; j < b.length; j++) b[j] = rng.normal() * 0.1;
      params.set(`layers.${i}.bias`, b);
    }
  });
  return params;
}

function randomInput(rng: Rng, batch: number, features: number): Float32Array {
  const x = new Float32Array(batch * features);
  for (let j = 0; j < x.length; j++) x[j] = rng.uniform();
  return x;
}

/** y = layers(x) in float64: linear y = x·Wᵀ + b, dropout = identity. x is [batch, in] row-major. */
function referenceForward(spec: ModelSpec, params: Params, x: Float32Array, batch: number): { data: Float64Array; width: number } {
  let width = x.length / batch;
  let h = Float64Array.from(x);
  spec.layers.forEach((layer, i) => {
    switch (layer.type) {
      case 'linear': {
        const w = params.get(`layers.${i}.weight`)!;
        const b = params.get(`layers.${i}.bias`);
        const { inFeatures: n, outFeatures: m } = layer;
        const y = new Float64Array(batch * m);
        for (let r = 0; r < batch; r++) {
          for (let o = 0; o < m; o++) {
            let s = b === undefined ? 0 : b[o]!;
            for (let k = 0; k < n; k++) s += h[r * n + k]! * w[o * n + k]!;
            y[r * m + o] = s;
          }
        }
        h = y;
        width = m;
        return;
      }
      case 'relu':
        h = h.map((v) => (v > 0 ? v : 0));
        return;
      case 'sigmoid':
        h = h.map((v) => 1 / (1 + Math.exp(-v)));
        return;
      case 'tanh':
        h = h.map((v) => Math.tanh(v));
        return;
      case 'dropout':
        return;
    }
  });
  return { data: h, width };
}

function argmaxRows(data: ArrayLike<number>, batch: number, width: number): number[] {
  const classes: number[] = [];
  for (let r = 0; r < batch; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (data[r * width + c]! > data[r * width + best]!) best = c;
    classes.push(best);
  }
  return classes;
}

/** Exports, loads in onnxruntime-node, and checks logits and classes against the float64 reference. */
async function checkAgainstOrt(spec: ModelSpec, params: Params, seed: number): Promise<number> {
  const bytes = exportOnnx(spec, params);
  const session = await InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  let worst = 0;
  try {
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['logits']);
    const first = spec.layers.find((l) => l.type === 'linear')!;
    const last = [...spec.layers].reverse().find((l) => l.type === 'linear')!;
    if (first.type !== 'linear' || last.type !== 'linear') throw new Error('unreachable');
    const inMeta = session.inputMetadata[0]!;
    const outMeta = session.outputMetadata[0]!;
    expect(inMeta.isTensor && inMeta.shape).toEqual(['batch', first.inFeatures]);
    expect(outMeta.isTensor && outMeta.shape).toEqual(['batch', last.outFeatures]);

    const rng = new Rng(seed);
    for (const batch of [1, 7]) {
      const x = randomInput(rng, batch, first.inFeatures);
      const results = await session.run({ x: new Tensor('float32', x, [batch, first.inFeatures]) });
      const logits = results['logits']!;
      expect(logits.dims).toEqual([batch, last.outFeatures]);
      const got = logits.data as Float32Array;
      const ref = referenceForward(spec, params, x, batch);
      let maxAbsRef = 0;
      let maxErr = 0;
      for (let j = 0; j < ref.data.length; j++) {
        maxAbsRef = Math.max(maxAbsRef, Math.abs(ref.data[j]!));
        maxErr = Math.max(maxErr, Math.abs(got[j]! - ref.data[j]!));
      }
      const rel = maxErr / maxAbsRef;
      worst = Math.max(worst, rel);
      expect(rel).toBeLessThanOrEqual(1e-5);
      expect(argmaxRows(got, batch, ref.width)).toEqual(argmaxRows(ref.data, batch, ref.width));
    }
  } finally {
    await session.release();
  }
  return worst;
}

const LENET: ModelSpec = { layers: [linear(784, 300), { type: 'relu' }, linear(300, 100), { type: 'relu' }, linear(100, 10)] };

// ---- 1. protobuf writer --------------------------------------------------------------------------------

describe('protobuf writer', () => {
  it('encodes varint edge cases byte for byte', () => {
    const cases: [number | bigint, number[]][] = [
      [0, [0x00]],
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
      [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
      [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
      [(1n << 64n) - 1n, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      // Negative int32/int64 are sign-extended to 64 bits: always ten bytes.
      [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      [-(2 ** 31), [0x80, 0x80, 0x80, 0x80, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ];
    for (const [value, expected] of cases) {
      expect([...varintBytes(value)], `varint(${value})`).toEqual(expected);
      const [decoded, end] = readVarint(varintBytes(value), 0);
      expect(end).toBe(expected.length);
      expect(decoded).toBe(BigInt.asUintN(64, BigInt(value)));
    }
    // A number beyond 2^53 cannot be represented exactly: refuse rather than round.
    expect(() => encodeVarint(2 ** 53, [])).toThrow(RangeError);
    expect(() => encodeVarint(1.5, [])).toThrow(RangeError);
    expect(() => encodeVarint(1n << 64n, [])).toThrow(RangeError);
    // number and bigint give the same bytes.
    expect([...varintBytes(2n ** 53n - 1n)]).toEqual([...varintBytes(2 ** 53 - 1)]);
  });

  it('writes tags as (field << 3) | wire type', () => {
    expect([...new ProtoWriter().varint(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]); // the encoding guide's example
    expect([...new ProtoWriter().string(2, 'testing').finish()]).toEqual([0x12, 0x07, ...'testing'.split('').map((c) => c.charCodeAt(0))]);
    expect([...new ProtoWriter().float(5, 1).finish()]).toEqual([0x2d, 0x00, 0x00, 0x80, 0x3f]);
    expect([...new ProtoWriter().varint(16, 1).finish()]).toEqual([0x80, 0x01, 0x01]); // field 16 needs a 2-byte tag
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(RangeError);
    expect(() => new ProtoWriter().varint(19000, 1)).toThrow(RangeError); // reserved range
  });

  it('encodes strings as UTF-8', () => {
    for (const s of ['', 'abc', 'µs', '→ x', 'emoji 😀', 'layers.0.weight']) {
      expect([...utf8Bytes(s)]).toEqual([...Buffer.from(s, 'utf8')]);
    }
    expect(() => utf8Bytes('bad \ud800 surrogate')).toThrow(RangeError);
  });

  it('round-trips a nested message with packed, fixed32 and large fields through a reader', () => {
    const big = new Uint8Array(1000).map((_, i) => (i * 7) & 255);
    const inner = new ProtoWriter().varint(1, 2 ** 31).string(2, 'inner ✓').packedVarints(3, [0, 127, 128, 2 ** 53 - 1, -1]);
    const innermost = new ProtoWriter().bytes(1, big);
    inner.message(4, innermost);
    const outer = new ProtoWriter()
      .varint(1, 8)
      .message(7, inner)
      .packedFloats(4, [1.5, -2, 3.25])
      .float(2, 0.1)
      .double(10, Math.PI)
      .bool(3, true)
      .message(5, new ProtoWriter()); // an empty message is a zero-length LEN field
    const bytes = outer.finish();
    expect(bytes.length).toBe(outer.length);

    const m = readMessage(bytes);
    expect(int(m, 1)).toBe(8);
    expect(int(m, 3)).toBe(1);
    expect(one(m, 2).wireType).toBe(WireType.I32);
    expect(new DataView(one(m, 2).bytes!.slice().buffer).getFloat32(0, true)).toBe(Math.fround(0.1));
    expect(one(m, 10).wireType).toBe(WireType.I64);
    expect(new DataView(one(m, 10).bytes!.slice().buffer).getFloat64(0, true)).toBe(Math.PI);
    const packed = one(m, 4).bytes!;
    expect([...new Float32Array(packed.slice().buffer)]).toEqual([1.5, -2, 3.25]);
    expect(one(m, 5).bytes!.length).toBe(0);

    const i = sub(m, 7);
    expect(one(i, 1).varint).toBe(2n ** 31n);
    expect(str(i, 2)).toBe('inner ✓');
    expect(readPackedVarints(one(i, 3).bytes!)).toEqual([0n, 127n, 128n, 2n ** 53n - 1n, (1n << 64n) - 1n]);
    expect([...one(sub(i, 4), 1).bytes!]).toEqual([...big]);
  });
});

// ---- 2. ModelProto structure ---------------------------------------------------------------------------

describe('exportOnnx: model structure', () => {
  it('writes IR 8, opset 17, producer sparsegrad, Gemm/Relu nodes and raw float32 initializers', () => {
    const spec: ModelSpec = { layers: [linear(6, 4), { type: 'relu' }, { type: 'dropout', p: 0.5 }, linear(4, 3, false), { type: 'tanh' }] };
    const params = randomParams(spec, new Rng(1));
    const model = readMessage(exportOnnx(spec, params));
    expect(int(model, 1)).toBe(8); // ir_version
    expect(str(model, 2)).toBe('sparsegrad'); // producer_name
    expect(all(model, 3)).toEqual([]); // no producer_version unless asked
    const opsets = subs(model, 8);
    expect(opsets.length).toBe(1);
    expect(all(opsets[0]!, 1)).toEqual([]); // default domain ""
    expect(int(opsets[0]!, 2)).toBe(17);

    const graph = sub(model, 7);
    expect(str(graph, 2)).toBe('sparsegrad');
    const nodes = subs(graph, 1).map((n) => ({ in: strs(n, 1), out: strs(n, 2), name: str(n, 3), op: str(n, 4), attrs: subs(n, 5) }));
    expect(nodes.map((n) => [n.op, n.name, n.in, n.out])).toEqual([
      ['Gemm', 'layers.0.gemm', ['x', 'layers.0.weight', 'layers.0.bias'], ['layers.0.output']],
      ['Relu', 'layers.1.relu', ['layers.0.output'], ['layers.1.output']],
      ['Gemm', 'layers.3.gemm', ['layers.1.output', 'layers.3.weight'], ['layers.3.output']],
      ['Tanh', 'layers.4.tanh', ['layers.3.output'], ['logits']],
    ]);
    const transB = nodes[0]!.attrs[0]!;
    expect([str(transB, 1), int(transB, 3), int(transB, 20)]).toEqual(['transB', 1, 2]); // name, i, type INT

    const inits = subs(graph, 5);
    expect(inits.map((t) => str(t, 8))).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.3.weight']);
    const w0 = inits[0]!;
    expect(all(w0, 1).map((f) => Number(f.varint!))).toEqual([4, 6]); // dims [out, in]
    expect(int(w0, 2)).toBe(1); // FLOAT
    const raw = one(w0, 9).bytes!;
    expect(raw.length).toBe(24 * 4);
    expect(new Float32Array(raw.slice().buffer)).toEqual(params.get('layers.0.weight'));

    const valueInfoShape = (vi: Message): (number | string)[] => {
      const tensorType = sub(sub(vi, 2), 1);
      expect(int(tensorType, 1)).toBe(1); // elem_type FLOAT
      return subs(sub(tensorType, 2), 1).map((d) => (d.has(1) ? int(d, 1) : str(d, 2)));
    };
    const inputs = subs(graph, 11);
    const outputs = subs(graph, 12);
    expect(inputs.map((v) => str(v, 1))).toEqual(['x']); // initializers are not graph inputs
    expect(outputs.map((v) => str(v, 1))).toEqual(['logits']);
    expect(valueInfoShape(inputs[0]!)).toEqual(['batch', 6]);
    expect(valueInfoShape(outputs[0]!)).toEqual(['batch', 3]);
  });

  it('is deterministic: same model, same bytes, whatever the Map order', () => {
    const params = randomParams(LENET, new Rng(2));
    const a = exportOnnx(LENET, params);
    const b = exportOnnx(LENET, new Map([...params].reverse()));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    // 266,200 float32 weights and biases + a few hundred bytes of graph.
    expect(a.length).toBeGreaterThan(266_610 * 4);
    expect(a.length).toBeLessThan(266_610 * 4 + 1000);
  });

  it('copies the weights: changing params after export does not change the bytes', () => {
    const spec: ModelSpec = { layers: [linear(40, 30)] };
    const params = randomParams(spec, new Rng(3));
    const a = exportOnnx(spec, params);
    const copy = a.slice();
    params.get('layers.0.weight')!.fill(7);
    expect(Buffer.from(a).equals(Buffer.from(copy))).toBe(true);
  });

  it('writes producer_version, graph name and opset when asked', () => {
    const spec: ModelSpec = { layers: [linear(2, 2)] };
    const model = readMessage(exportOnnx(spec, randomParams(spec, new Rng(4)), { opsetVersion: 13, producerVersion: '0.1.0', graphName: 'g' }));
    expect(str(model, 3)).toBe('0.1.0');
    expect(int(sub(model, 8), 2)).toBe(13);
    expect(str(sub(model, 7), 2)).toBe('g');
  });
});

// ---- 3. onnxruntime-node agrees with a float64 reference -----------------------------------------------

describe('exportOnnx: onnxruntime-node runs the file', () => {
  it('LeNet-300-100 (784-300-100-10, ReLU)', async () => {
    const params = randomParams(LENET, new Rng(10));
    await checkAgainstOrt(LENET, params, 11);
  });

  it('sigmoid and tanh, with a dropout that is dropped', async () => {
    const spec: ModelSpec = {
      layers: [linear(20, 16), { type: 'sigmoid' }, { type: 'dropout', p: 0.3 }, linear(16, 12), { type: 'tanh' }, linear(12, 5)],
    };
    await checkAgainstOrt(spec, randomParams(spec, new Rng(20)), 21);
  });

  it('linear layers without bias (Gemm with no C input)', async () => {
    const spec: ModelSpec = { layers: [linear(30, 20, false), { type: 'relu' }, linear(20, 10, false)] };
    await checkAgainstOrt(spec, randomParams(spec, new Rng(30)), 31);
  });

  it('a mostly-zero (95 % pruned) weight matrix, exported as a sparse initializer', async () => {
    const spec: ModelSpec = { layers: [linear(100, 50), { type: 'relu' }, linear(50, 10)] };
    const params = randomParams(spec, new Rng(40), 0.95);
    const w0 = params.get('layers.0.weight')!;
    w0.fill(0, 0, 100); // one output neuron fully pruned
    const zeros = w0.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    expect(zeros / w0.length).toBeGreaterThanOrEqual(0.95);
    await checkAgainstOrt(spec, params, 41);
  });

  it('an activation as the last layer and opset 13 both load', async () => {
    const spec: ModelSpec = { layers: [{ type: 'tanh' }, linear(8, 4), { type: 'sigmoid' }, { type: 'dropout', p: 0.1 }] };
    const params = randomParams(spec, new Rng(50));
    await checkAgainstOrt(spec, params, 51);
    const session = await InferenceSession.create(exportOnnx(spec, params, { opsetVersion: 13 }));
    await session.release();
  });
});

// ---- 4. errors -----------------------------------------------------------------------------------------

describe('exportOnnx: errors name the problem', () => {
  const spec: ModelSpec = { layers: [linear(5, 4), { type: 'relu' }, linear(4, 3)] };
  const good = (): Params => randomParams(spec, new Rng(60));

  function thrown(fn: () => unknown): Error {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected an error');
  }

  it('missing weight or bias → ConfigError naming the parameter', () => {
    const p = good();
    p.delete('layers.2.weight');
    const e = thrown(() => exportOnnx(spec, p));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain('missing parameter layers.2.weight');
    expect(e.message).toContain('[3, 4]');
    const q = good();
    q.delete('layers.0.bias');
    expect(() => exportOnnx(spec, q)).toThrow(/missing parameter layers\.0\.bias/);
  });

  it('wrong weight shape → ShapeError with the expected shape', () => {
    const p = good();
    p.set('layers.0.weight', new Float32Array(4 * 6));
    const e = thrown(() => exportOnnx(spec, p));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('layers.0.weight has 24 elements, expected shape [4, 5] = 20');
    const q = good();
    q.set('layers.2.bias', new Float32Array(4));
    expect(() => exportOnnx(spec, q)).toThrow(ShapeError);
  });

  it('linear layers that do not chain → ShapeError naming both layers', () => {
    const bad: ModelSpec = { layers: [linear(5, 4), { type: 'relu' }, linear(6, 3)] };
    const e = thrown(() => exportOnnx(bad, randomParams(bad, new Rng(61))));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toContain('layers[2] (linear) expects 6 input features but layers[0] (linear) gives 4');
  });

  it('other bad inputs → typed errors', () => {
    const f64 = good() as Map<string, unknown>;
    f64.set('layers.0.weight', new Float64Array(20));
    expect(() => exportOnnx(spec, f64 as Params)).toThrow(DTypeError);

    const nan = good();
    nan.get('layers.2.weight')![5] = Number.NaN;
    expect(() => exportOnnx(spec, nan)).toThrow(NonFiniteError);

    const extra = good();
    extra.set('layers.1.weight', new Float32Array(1));
    expect(() => exportOnnx(spec, extra)).toThrow(/unexpected parameter layers\.1\.weight/);
    const noBias: ModelSpec = { layers: [linear(5, 4, false)] };
    const withBias = randomParams({ layers: [linear(5, 4)] }, new Rng(62));
    expect(() => exportOnnx(noBias, withBias)).toThrow(ConfigError);

    expect(() => exportOnnx({ layers: [{ type: 'relu' }] }, new Map())).toThrow(/no linear or conv2d layer/);
    expect(() => exportOnnx({ layers: [{ type: 'conv' } as unknown as LayerSpec] }, new Map())).toThrow(/unknown type "conv"/);
    expect(() => exportOnnx({ layers: [linear(0, 3)] }, new Map())).toThrow(ConfigError);
    expect(() => exportOnnx(spec, good(), { opsetVersion: 12 })).toThrow(ConfigError);
    expect(() => exportOnnx(spec, good(), { opsetVersion: 18 })).toThrow(ConfigError);
  });
});
