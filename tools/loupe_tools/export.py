"""ONNX export + verification helpers (TorchScript exporter, opset 14)."""
import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import onnx
import torch
from onnx import shape_inference

from .common import CHECK_DIR, write_json

OPSET = 14
MAX_MODEL_BYTES = 10 * 1024 * 1024


def export_onnx(
    model: torch.nn.Module,
    args: tuple,
    path: str,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Dict[str, Dict[int, str]],
) -> None:
    model.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            args,
            path,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
            export_params=True,
        )


def finalize_onnx(path: str, metadata: Optional[Dict[str, str]] = None, doc: Optional[str] = None) -> onnx.ModelProto:
    """Add metadata_props / doc string, run onnx.checker and save again."""
    m = onnx.load(path)
    if metadata:
        existing = {p.key: p for p in m.metadata_props}
        for k, v in metadata.items():
            if k in existing:
                existing[k].value = v
            else:
                p = m.metadata_props.add()
                p.key, p.value = k, v
    if doc:
        m.doc_string = doc
    m.producer_name = "loupe-demo-models (torch %s)" % torch.__version__.split("+")[0]
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    size = os.path.getsize(path)
    assert size < MAX_MODEL_BYTES, f"{path} is {size} bytes (>= 10 MB)"
    return m


def check_graph(path: str, expected_softmax: int, attention_rank: int = 4) -> List[str]:
    """Assert the graph has exactly `expected_softmax` Softmax nodes, each `attention_rank`-D,
    and no fused attention ops. Returns the Softmax node names."""
    m = onnx.load(path)
    inferred = shape_inference.infer_shapes(m, check_type=True, strict_mode=True, data_prop=True)
    ranks = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            ranks[vi.name] = len(t.shape.dim)
    ops = [n.op_type for n in m.graph.node]
    fused = {"Attention", "MultiHeadAttention", "FusedMatMul", "SkipLayerNormalization", "EmbedLayerNormalization"}
    assert not fused.intersection(ops), f"fused ops present: {fused.intersection(ops)}"
    softmax = [n for n in m.graph.node if n.op_type == "Softmax"]
    assert len(softmax) == expected_softmax, f"expected {expected_softmax} Softmax nodes, found {len(softmax)}"
    names = []
    for n in softmax:
        r = ranks.get(n.output[0])
        assert r == attention_rank, f"Softmax {n.name} output rank {r}, expected {attention_rank}"
        axis = [a.i for a in n.attribute if a.name == "axis"]
        assert axis and axis[0] in (-1, attention_rank - 1), f"Softmax {n.name} axis {axis}"
        names.append(n.name)
    return names


def io_summary(path: str) -> dict:
    m = onnx.load(path)

    def desc(vi):
        t = vi.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        return {"name": vi.name, "dtype": {"FLOAT": "float32", "INT64": "int64"}.get(onnx.TensorProto.DataType.Name(t.elem_type), onnx.TensorProto.DataType.Name(t.elem_type).lower()), "shape": dims}

    init = {i.name for i in m.graph.initializer}
    return {
        "inputs": [desc(i) for i in m.graph.input if i.name not in init],
        "outputs": [desc(o) for o in m.graph.output],
    }


def write_reference(name: str, model_file: str, cases: List[dict]) -> str:
    """Store torch inputs/outputs for tools/check_models.mjs (ONNX Runtime vs torch parity).

    cases: [{"inputs": {name: np.ndarray}, "outputs": {name: np.ndarray}}]
    """
    out = {"model": model_file, "cases": []}
    for c in cases:
        out["cases"].append({
            "inputs": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.reshape(-1).tolist()}
                       for k, v in c["inputs"].items()},
            "outputs": {k: {"shape": list(v.shape), "data": np.asarray(v, dtype=np.float64).reshape(-1).round(7).tolist()}
                        for k, v in c["outputs"].items()},
        })
    path = os.path.join(CHECK_DIR, f"{name}.json")
    os.makedirs(CHECK_DIR, exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f)
    return path
