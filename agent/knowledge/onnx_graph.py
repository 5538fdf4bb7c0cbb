"""all-MiniLM-L6-v2 as an ONNX graph, built around the verified upstream weights.

No exported model file is loaded, so none needs trusting: the graph below is BERT's encoder written out op by
op (ONNX Runtime's fused CPU kernels for embeddings, attention, layer norm and GELU), and its weights are the
tensors of upstream's `model.safetensors`. `precision="int8"` quantises every dense layer's weights per output
channel (activations are quantised on the fly), 4x smaller and faster on CPU.
tests/test_knowledge_embedder.py checks the output against vectors computed by sentence-transformers.

`write_model` streams the large tensors to a weights file beside the graph (ONNX external data), so that
building the model never holds a second copy of the weights in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

import numpy as np

if TYPE_CHECKING:
    import onnx

Precision = Literal["fp32", "int8"]
LAYERS = 6
HEADS = 12
HIDDEN = 384
EPSILON = 1e-12
# 7-bit weights: x86 CPUs without VNNI multiply u8 x s8 pairs into 16 bits, which 8-bit weights can overflow.
INT8_LIMIT = 63
_MS = "com.microsoft"
WEIGHTS_FILE = "weights.bin"
_INLINE_BYTES = 4096  # smaller tensors stay inside the graph
_ALIGN = 4096  # external tensors start on a page, so onnxruntime may map them


class _Graph:
    """Collects nodes and initializers; names are the tensor names in the safetensors file where they exist.
    With `weights`, tensors of 4 KB and more are written there (external data), not kept in the graph."""

    def __init__(self, weights: BinaryIO | None = None) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._weights = weights

    def constant(self, name: str, array: np.ndarray) -> str:
        from onnx import StringStringEntryProto, TensorProto, helper, numpy_helper

        array = np.ascontiguousarray(array)
        if self._weights is None or array.nbytes < _INLINE_BYTES:
            self.initializers.append(numpy_helper.from_array(array, name))
            return name
        offset = self._weights.seek(-self._weights.tell() % _ALIGN, 1)
        self._weights.write(array.tobytes())
        where = {"location": WEIGHTS_FILE, "offset": str(offset), "length": str(array.nbytes)}
        tensor = TensorProto(
            name=name,
            data_type=helper.np_dtype_to_tensor_dtype(array.dtype),
            dims=array.shape,
            data_location=TensorProto.EXTERNAL,
            external_data=[StringStringEntryProto(key=key, value=value) for key, value in where.items()],
        )
        self.initializers.append(tensor)
        return name

    def node(
        self, op: str, inputs: list[str], output: str, domain: str = "", unused: int = 0, **attributes: object
    ) -> str:
        """Adds one node; `unused` outputs after the first are named but never read."""
        from onnx import helper

        outputs = [output, *(f"{output}.unused{n}" for n in range(unused))]
        node = helper.make_node(op, inputs, outputs, name=output, domain=domain)
        node.attribute.extend(helper.make_attribute(key, value) for key, value in attributes.items())
        self.nodes.append(node)
        return output


def write_model(weights: Mapping[str, np.ndarray], precision: Precision, folder: Path) -> Path:
    """The model written to `folder` (the graph, and its large tensors in WEIGHTS_FILE beside it); its path."""
    with (folder / WEIGHTS_FILE).open("wb") as external:
        model = build_model(weights, precision, external)
    path = folder / "all-MiniLM-L6-v2.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def build_model(
    weights: Mapping[str, np.ndarray], precision: Precision = "fp32", external: BinaryIO | None = None
) -> onnx.ModelProto:
    """Inputs `input_ids` and `attention_mask` (int32, batch x tokens); output `tokens` (batch x tokens x 384),
    the last hidden state, which `OnnxEmbedder` mean-pools over the mask and normalises. With `external`, the
    large tensors are written there instead of into the graph (see `write_model`)."""
    from onnx import TensorProto, helper

    graph = _Graph(external)
    w = weights
    hidden = graph.node(
        "EmbedLayerNormalization",
        [
            "input_ids",
            "",
            graph.constant("word", w["embeddings.word_embeddings.weight"]),
            # every token has type 0: its type embedding is added to each position's, a sum BERT adds anyway
            graph.constant(
                "position",
                w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0],
            ),
            "",
            graph.constant("embed_gamma", w["embeddings.LayerNorm.weight"]),
            graph.constant("embed_beta", w["embeddings.LayerNorm.bias"]),
        ],
        "embedded",
        domain=_MS,
        unused=1,  # mask_index: the attention reads the mask itself
        epsilon=EPSILON,
    )
    for layer in range(LAYERS):
        hidden = _layer(graph, w, f"encoder.layer.{layer}.", hidden, precision)
    graph.nodes[-1].output[0] = "tokens"
    batch_tokens = ["batch", "tokens"]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "all-MiniLM-L6-v2",
            [
                helper.make_tensor_value_info("input_ids", TensorProto.INT32, batch_tokens),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT32, batch_tokens),
            ],
            [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [*batch_tokens, HIDDEN])],
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_MS, 1)],
        producer_name="debrief",
    )
    model.ir_version = 8
    return model


def _layer(graph: _Graph, w: Mapping[str, np.ndarray], prefix: str, hidden: str, precision: Precision) -> str:
    attention = f"{prefix}attention."
    query, key, value = (
        _dense(graph, w, f"{attention}self.{part}", hidden, precision) for part in ("query", "key", "value")
    )
    qkv_bias = np.concatenate([w[f"{attention}self.{part}.bias"] for part in ("query", "key", "value")])
    context = graph.node(
        "MultiHeadAttention",
        [query, key, value, graph.constant(f"{attention}self.bias", qkv_bias), "attention_mask"],
        f"{attention}context",
        domain=_MS,
        num_heads=HEADS,
    )
    projected = _dense(graph, w, f"{attention}output.dense", context, precision)
    attended = _skip_norm(graph, w, f"{attention}output.", projected, hidden)
    expanded = _dense(graph, w, f"{prefix}intermediate.dense", attended, precision)
    activated = graph.node(
        "BiasGelu",
        [expanded, graph.constant(f"{prefix}intermediate.dense.bias", w[f"{prefix}intermediate.dense.bias"])],
        f"{prefix}intermediate.gelu",
        domain=_MS,
    )
    output = _dense(graph, w, f"{prefix}output.dense", activated, precision)
    return _skip_norm(graph, w, f"{prefix}output.", output, attended)


def _dense(graph: _Graph, w: Mapping[str, np.ndarray], name: str, x: str, precision: Precision) -> str:
    """x @ W^T (PyTorch stores Linear weights as out x in). The bias is added by the fused op that follows
    (attention, BiasGelu, SkipLayerNormalization)."""
    weight = np.asarray(w[f"{name}.weight"], dtype=np.float32).T
    if precision == "fp32":
        return graph.node("MatMul", [x, graph.constant(f"{name}.weight", weight)], f"{name}.out")
    scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / INT8_LIMIT
    quantized = np.clip(np.rint(weight / scale), -INT8_LIMIT, INT8_LIMIT).astype(np.int8)
    return graph.node(
        "DynamicQuantizeMatMul",
        [
            x,
            graph.constant(f"{name}.weight_int8", quantized),
            graph.constant(f"{name}.weight_scale", scale.astype(np.float32)),
            graph.constant(f"{name}.weight_zero", np.zeros_like(quantized[0])),
        ],
        f"{name}.out",
        domain=_MS,
    )


def _skip_norm(graph: _Graph, w: Mapping[str, np.ndarray], prefix: str, x: str, skip: str) -> str:
    """LayerNorm(x + bias + skip): the residual connection after attention and after the feed-forward."""
    return graph.node(
        "SkipLayerNormalization",
        [
            x,
            skip,
            graph.constant(f"{prefix}LayerNorm.weight", w[f"{prefix}LayerNorm.weight"]),
            graph.constant(f"{prefix}LayerNorm.bias", w[f"{prefix}LayerNorm.bias"]),
            graph.constant(f"{prefix}dense.bias", w[f"{prefix}dense.bias"]),
        ],
        f"{prefix}normed",
        domain=_MS,
        epsilon=EPSILON,
    )
