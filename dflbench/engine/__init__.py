"""The trainer: K models of one dataset trained at once, one optimizer step for all.

Models are stacked along a leading model dimension (see ``dflbench.models``); each keeps its own
seeded initialisation and its own minibatch order, and each is scored by its own loss. The
optimizers act element-wise, so a model trained inside the stack follows the same trajectory as
the same model trained alone. Early stopping and divergence are handled per model.

One module per concern:

- ``inputs``: what is trained (:class:`TrainData`, :class:`Treatment`);
- ``optim``: the flat parameter buffer (:class:`FlatParameters`) and the optimizers stepping it
  (:class:`FlatOptimizer`);
- ``stack``: one stack's batch loop (:class:`~dflbench.engine.stack.Stack`);
- ``stopping``: per-model divergence, early stopping and restore-best
  (:class:`~dflbench.engine.stopping.Stopping`);
- ``outcome``: test-set probabilities and the per-model :class:`ModelOutcome`;
- ``pixels``: segmentation's per-pixel rows and its ignored pixels;
- ``parallel``: the :data:`STACK_PARTS` sub-stacks of a stack, trained at once in threads;
- ``train``: the entry point, :func:`train_models`.

What makes it fast (measured on a 2-core machine; docs/engine.md and benchmarks/bench_engine.py):

- every trainable tensor of a stack (model and loss parameters) is a view into one flat buffer,
  and so is every gradient, so an optimizer step is one fused kernel over one vector;
- a model may write out its own backward pass (``forward_backward``, as ``StackedMLP`` does):
  gradients land straight in the flat buffer. Models without it (the CNN) are trained through
  autograd, with the same results;
- losses give their gradient in closed form (``Loss.loss_and_grad``) from softmax terms computed
  once per step for the whole stack, so no autograd graph is built for them;
- the narrow output layer is computed class-major (``dflbench.models.StackedMLP``);
- each stack is split into :data:`STACK_PARTS` sub-stacks trained at once in threads;
- glibc's malloc may be told to keep freed buffers, which removes the page faults of
  re-allocating the same activations every step: a process-wide setting, so the library never
  applies it; the CLI and the executors' worker processes do (:mod:`dflbench.settings`).

Inputs may be tables (N, F) or images (N, C, H, W): each model's minibatch is gathered along the
first axis into (K, B, ...). Targets are labels (N,) or, for segmentation, masks (N, H, W) whose
pixels are the losses' rows (``pixels``: per-pixel logits (K, B, H, W, C) become (K, B·H·W, C),
ignored pixels masked out). What remains per step is the batched matmuls (over half of it) and
many small operations (the losses', the ReLUs', the optimizer's), each costing a few microseconds
whatever its size.
"""

from dflbench.engine.inputs import TrainData, Treatment
from dflbench.engine.optim import FlatOptimizer, FlatParameters
from dflbench.engine.outcome import ModelOutcome
from dflbench.engine.parallel import STACK_PARTS
from dflbench.engine.stopping import Stopping, batched_macro_f1
from dflbench.engine.train import resolve_device, train_models

__all__ = [
    "STACK_PARTS",
    "FlatOptimizer",
    "FlatParameters",
    "ModelOutcome",
    "Stopping",
    "TrainData",
    "Treatment",
    "batched_macro_f1",
    "resolve_device",
    "train_models",
]
