r"""The training loop: :func:`fit` (and :func:`evaluate`).

One epoch of mini-batch gradient descent is, for every batch :math:`(X, y)`,

.. math::  \hat y = f_\theta(X), \quad L = \ell(\hat y, y), \quad
           g = \nabla_\theta L, \quad \theta \leftarrow \mathrm{update}(\theta, g).

:func:`fit` runs that loop and records what a learner wants to see: the loss,
learning rate, gradient norm and update ratio of every step, and the train and
validation loss and metrics of every epoch (see :class:`~minigrad.train.History`).

The scheduler stepping rule is documented in :mod:`minigrad.train.trainer`.
"""
from __future__ import annotations

from .metrics import evaluate
from .trainer import Trainer

__all__ = ["fit", "evaluate"]


def fit(model, loss_fn, optimizer, train_loader, epochs, val_loader=None, scheduler=None,
        metrics=None, callbacks=None, progress=True, scheduler_interval=None,
        scheduler_monitor=None, resume_from=None, track_stats=True):
    r"""Train ``model`` for ``epochs`` epochs and return a :class:`~minigrad.train.History`.

    Each batch: forward, ``loss_fn(output, y)``, ``optimizer.zero_grad()``,
    ``loss.backward()``, ``optimizer.step()``, then (per-batch) scheduler step and
    callbacks.  After each epoch: validation under ``no_grad`` in eval mode,
    per-epoch scheduler step, callbacks.

    Parameters
    ----------
    model : minigrad.nn.Module
    loss_fn : callable
        ``loss_fn(output_tensor, y) -> scalar Tensor``, e.g. ``F.cross_entropy``.
    optimizer : minigrad.optim.Optimizer
    train_loader : iterable of ``(X, y)``
        E.g. :class:`minigrad.data.DataLoader`; ``X`` is wrapped in a :class:`Tensor`.
    epochs : int
        Total number of epochs (on resume, the epochs already done count).
    val_loader : iterable of ``(X, y)``, optional
    scheduler : learning-rate scheduler, optional
        Stepped per batch or per epoch, see ``scheduler_interval``.
    metrics : list of callables or names, or dict name -> callable
        ``metric(y_pred, y_true) -> float``, e.g. ``accuracy``; reported as
        ``train_<name>`` (on the training batches, as the weights change during the
        epoch, like Keras) and ``val_<name>``.
    callbacks : list of :class:`~minigrad.train.Callback`
    progress : bool
        Show a ``tqdm.auto`` progress bar (a widget in Jupyter, text in a terminal).
    scheduler_interval : {'epoch', 'batch', None}
        When to call ``scheduler.step()``. None: after every batch for ``OneCycleLR`` and
        ``CyclicLR``, after every epoch for the others (``ReduceLROnPlateau`` with the
        monitored value); see :mod:`minigrad.train.trainer`.
    scheduler_monitor : str, optional
        Epoch-log key given to ``ReduceLROnPlateau.step`` (default ``'val_loss'``, or
        ``'train_loss'`` without a validation loader).
    resume_from : str or PathLike, optional
        A checkpoint written by :class:`~minigrad.train.ModelCheckpoint`; training
        continues from it bit-identically.
    track_stats : bool
        Record the gradient norm and update ratio of every step (default), measured by
        :func:`~minigrad.optim.measure_step`: Adam and AdamW compute them inside their
        update kernel (nearly free with float64 parameters), the other optimizers with one
        extra pass over the parameters.  With False the two columns hold NaN.

    Returns
    -------
    History
        ``history.steps``: per step ``loss``, ``lr`` (used by that step), ``grad_norm``
        (:math:`\lVert g\rVert_2`) and ``update_ratio``
        (:math:`\lVert\theta_t-\theta_{t-1}\rVert/\lVert\theta_{t-1}\rVert`, the change the step
        made), both over the parameters the step updated (those with a gradient);
        ``history.epochs``: per epoch train/val loss, metrics and wall time.

    Example
    -------
    >>> history = fit(model, F.cross_entropy, Adam(model.parameters(), lr=1e-3),   # doctest: +SKIP
    ...               train_loader, epochs=20, val_loader=val_loader, metrics=[accuracy])
    >>> history.epochs["val_accuracy"][-1]                                        # doctest: +SKIP
    0.97
    """
    trainer = Trainer(model, loss_fn, optimizer, train_loader, epochs, val_loader=val_loader,
                      scheduler=scheduler, metrics=metrics, callbacks=callbacks, progress=progress,
                      scheduler_interval=scheduler_interval, scheduler_monitor=scheduler_monitor,
                      track_stats=track_stats)
    return trainer.fit(resume_from=resume_from)
