"""Move MLP weights between PyTorch and sparsegrad. Needs numpy; torch only for the torch parts.

Writing (PyTorch -> sparsegrad):

    from sparsegrad_torch import save_state_dict
    save_state_dict(model, "mlp.safetensors")               # a module or a state_dict; then:
    #   npx sparsegrad import --from safetensors mlp.safetensors --out mlp.sparsegrad.safetensors
    save_state_dict(model, "mlp.safetensors", csr=True)     # 2-D weights as CSR (I64 indices): small for pruned models
    save_state_dict(model.half(), "mlp-f16.safetensors")    # F16 (BF16 and F64 work too)

  The file is plain safetensors, the tensors named as in the state_dict: <prefix>.weight / .bias, the
  <prefix>.weight_orig + .weight_mask pairs of torch.nn.utils.prune as they are (or, with csr=True, applied
  and stored as CSR), and CSR weights as <prefix>.weight.{crow_indices, col_indices, values, size}.

Reading (sparsegrad -> PyTorch):

    from sparsegrad_torch import load_sparsegrad, to_state_dict, to_torch
    spec, params = load_sparsegrad("model.safetensors")     # numpy only: CSR weights as dense arrays
    model = to_torch("model.safetensors")                   # an nn.Sequential with the weights, in eval mode
    state = to_state_dict("model.safetensors", sparse=True) # keys "0.weight", ...; CSR as torch.sparse_csr_tensor

  The state_dict keys are those of an nn.Sequential built from the file's layer list (layers.<i> -> <i>),
  which is what to_torch builds.

Command line:

    python3 tools/sparsegrad_torch.py export STATE.pt OUT.safetensors [--csr] [--half]
    python3 tools/sparsegrad_torch.py inspect FILE.safetensors
"""
import json
import struct
import sys

import numpy as np

_TO_NUMPY = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
             "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_, "BF16": np.uint16}
_FROM_NUMPY = {np.dtype(v).str: k for k, v in _TO_NUMPY.items() if k != "BF16"}


# ---- safetensors, with numpy ---------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    """Write {name: (dtype, shape, little-endian bytes) or numpy array} as a safetensors file."""
    entries, offset = {}, 0
    blobs = []
    for name, value in tensors.items():
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            dtype = _FROM_NUMPY.get(array.dtype.newbyteorder("<").str)
            if dtype is None:
                raise ValueError(f"{name}: numpy dtype {array.dtype} has no safetensors name")
            value = (dtype, list(array.shape), array.astype(array.dtype.newbyteorder("<")).tobytes())
        dtype, shape, data = value
        entries[name] = {"dtype": dtype, "shape": [int(d) for d in shape], "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header = dict(entries)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Read a safetensors file: (metadata dict, {name: numpy array}); BF16 comes back as float32."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    start = 8 + length
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = np.frombuffer(data[start + begin:start + end], dtype=np.dtype(_TO_NUMPY[info["dtype"]]).newbyteorder("<"))
        if info["dtype"] == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = raw.reshape(info["shape"])
    return metadata, tensors


# ---- PyTorch -> sparsegrad ------------------------------------------------------------------------------

def _entry(value):
    """A tensor (torch or numpy) as (dtype, shape, bytes); a torch sparse tensor as its CSR parts."""
    if isinstance(value, np.ndarray):
        return value
    import torch  # only when torch tensors are given
    value = value.detach().cpu()
    if value.layout in (torch.sparse_coo, torch.sparse_csr):
        csr = value.to_sparse_csr()
        return {"crow_indices": csr.crow_indices().numpy().astype(np.int64), "col_indices": csr.col_indices().numpy().astype(np.int64),
                "values": _entry(csr.values()), "size": np.array(list(csr.shape), dtype=np.int64)}
    if value.dtype == torch.bfloat16:
        return ("BF16", list(value.shape), value.contiguous().view(torch.int16).numpy().astype("<i2").tobytes())
    return value.contiguous().numpy()


def _csr_parts(dense):
    """The CSR parts of a 2-D numpy array (its nonzeros), with I64 indices."""
    rows, cols = np.nonzero(dense)
    crow = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.add.at(crow, rows + 1, 1)
    return {"crow_indices": np.cumsum(crow), "col_indices": cols.astype(np.int64), "values": dense[rows, cols],
            "size": np.array(dense.shape, dtype=np.int64)}


def save_state_dict(state, path, csr=False):
    """Write a module's (or a state_dict's) tensors as safetensors in the form `sparsegrad import` reads.

    csr=True stores every 2-D weight as CSR (pruned weight_orig/weight_mask pairs applied first).
    """
    state = state.state_dict() if hasattr(state, "state_dict") else state
    tensors = {}
    for name, value in state.items():
        entry = _entry(value)
        if csr and name.endswith(".weight_mask"):
            continue
        if csr and name.endswith(".weight_orig"):
            prefix = name[: -len("_orig")]
            mask = _entry(state[prefix + "_mask"])
            entry = (entry * (mask != 0)).astype(entry.dtype)
            name = prefix
        if csr and name.endswith(".weight") and isinstance(entry, np.ndarray) and entry.ndim == 2:
            entry = _csr_parts(entry)
        if isinstance(entry, dict):
            for part, array in entry.items():
                tensors[f"{name}.{part}"] = array
        else:
            tensors[name] = entry
    write_safetensors(path, tensors, {"format": "pt"})


# ---- sparsegrad -> PyTorch ------------------------------------------------------------------------------

def load_sparsegrad(path):
    """Read a sparsegrad model file: (spec, {"layers.<i>.weight": dense numpy array, ...}); CSR is expanded."""
    metadata, tensors = read_safetensors(path)
    if metadata.get("format") != "sparsegrad":
        raise ValueError(f"{path} is not a sparsegrad model file")
    spec = json.loads(metadata["model"])
    encodings = json.loads(metadata.get("encodings", "{}"))
    params = {}
    for i, layer in enumerate(spec["layers"]):
        if layer["type"] != "linear":
            continue
        name = f"layers.{i}.weight"
        if name in encodings:
            indptr = tensors[name + ".csr.indptr"].astype(np.int64)
            weight = np.zeros((layer["outFeatures"], layer["inFeatures"]), dtype=np.float32)
            rows = np.repeat(np.arange(layer["outFeatures"]), np.diff(indptr))
            weight[rows, tensors[name + ".csr.indices"].astype(np.int64)] = tensors[name + ".csr.values"]
        else:
            weight = tensors[name].astype(np.float32)
        params[name] = weight
        if layer["bias"]:
            params[f"layers.{i}.bias"] = tensors[f"layers.{i}.bias"].astype(np.float32)
    return spec, params


def to_state_dict(path, sparse=False):
    """The file's weights as a torch state_dict for to_torch's nn.Sequential; sparse=True: CSR weights."""
    import torch
    _, params = load_sparsegrad(path)
    state = {}
    for name, array in params.items():
        tensor = torch.from_numpy(np.array(array))
        if sparse and tensor.ndim == 2:
            tensor = tensor.to_sparse_csr()
        state[name[len("layers."):]] = tensor
    return state


def to_torch(path):
    """An nn.Sequential of the file's layers with its weights, in eval mode."""
    import torch
    spec, _ = load_sparsegrad(path)
    modules = []
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "linear":
            modules.append(torch.nn.Linear(layer["inFeatures"], layer["outFeatures"], bias=layer["bias"]))
        elif kind == "dropout":
            modules.append(torch.nn.Dropout(layer["p"]))
        else:
            modules.append({"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[kind]())
    model = torch.nn.Sequential(*modules)
    model.load_state_dict(to_state_dict(path))
    return model.eval()


def _main(argv):
    if len(argv) >= 3 and argv[0] == "export":
        import torch
        state = torch.load(argv[1], map_location="cpu")
        if "--half" in argv:
            state = {k: (v.half() if v.is_floating_point() else v) for k, v in (state.state_dict() if hasattr(state, "state_dict") else state).items()}
        save_state_dict(state, argv[2], csr="--csr" in argv)
        return 0
    if len(argv) == 2 and argv[0] == "inspect":
        metadata, tensors = read_safetensors(argv[1])
        print(json.dumps(metadata))
        for name, array in tensors.items():
            print(f"{name}: {array.dtype} {list(array.shape)}")
        return 0
    print(__doc__.split("Command line:")[1].strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
