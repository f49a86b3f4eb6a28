"""Which process writes: without a launcher, this one; on a machine without CUDA, the CPU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from mucode.core.processes import process_state, use_cpu  # noqa: E402


def test_one_process_without_a_launcher_is_the_main_one():
    state = process_state()
    assert state.is_main_process and state.num_processes == 1
    with state.main_process_first():  # no other process to wait for
        pass


@pytest.mark.parametrize("cuda", [True, False])
def test_the_cpu_is_used_only_without_cuda(monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert use_cpu() is not cuda
