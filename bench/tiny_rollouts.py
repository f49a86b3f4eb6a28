"""Write the scripted rollouts the `tiny` preset starts from (its iteration 0).

Three HumanEval problems, three episodes each, answered from a script and judged by the
real sandbox: per problem, one episode fails its first turn and is fixed on the second, one
is right at once, one never is; HumanEval/2 is never solved (the expert's unsolved case).
Run from the repository root: python bench/tiny_rollouts.py
"""

from __future__ import annotations

import collections
from pathlib import Path

from mucode.benchmarks import load_problems
from mucode.generation import SamplingParams, ScriptedGenerator
from mucode.rollout import RolloutConfig, run_rollouts
from mucode.sandbox import Sandbox

OUT = Path("src/mucode/training/presets/tiny-rollouts")
TASKS = ("HumanEval/0", "HumanEval/1", "HumanEval/2")
UNSOLVED = "HumanEval/2"


def main() -> None:
    problems = load_problems("humaneval", task_ids=TASKS)
    by_prompt = {p.entry_point: p for p in problems}
    episodes: collections.Counter[str] = collections.Counter()

    def script(conversation, _sample: int) -> str:
        problem = next(p for name, p in by_prompt.items() if name in conversation[0].content)
        turn = sum(m.role == "assistant" for m in conversation)
        episodes[problem.task_id] += turn == 0
        episode = episodes[problem.task_id] - 1  # episodes of a problem run one after another
        wrong = f"def {problem.entry_point}(*args):\n    return None"
        right = problem.reference_solution.strip()
        if problem.task_id == UNSOLVED or episode == 2 or (episode == 0 and turn == 0):
            return f"```python\n{wrong}\n```"
        return f"```python\n{right}\n```"

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "trajectories.jsonl").unlink(missing_ok=True)
    config = RolloutConfig(turns=2, samples=3, concurrency=1, sampling=SamplingParams())
    with Sandbox(workers=1) as sandbox:
        summary = run_rollouts(problems, ScriptedGenerator(script), sandbox, config, OUT)
    print(f"{summary.trajectories} trajectories, accuracy by turn {summary.solved_by_turn}")


if __name__ == "__main__":
    main()
