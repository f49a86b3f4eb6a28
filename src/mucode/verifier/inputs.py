"""How a (problem prompt, code) pair becomes one model input, for encoders and decoders.

``pair`` (encoders such as MiniLM): the tokenizer's own pair form, ``[CLS] prompt [SEP]
code [SEP]``, the code shown as a ```python block after a newline; the head reads the
pooled first token.

``chat`` (decoder-only LMs): the conversation as the generator saw and wrote it, through
the tokenizer's chat template: the prompt as the user turn (with the template's default
system prompt, as the generator had it), the code as the assistant's ```python block,
then the template's end-of-turn token. Every input ends in that fixed token and is padded
on the right with a different one, so the sequence-classification head, which reads the
last token that is not padding, always reads the end-of-turn token after the whole code.
Prompt and code are tokenised on their own with special tokens split, so text that spells
a special token cannot end an input early. A tokenizer without a chat template gets
``prompt``, a blank line, the code block and its end-of-sequence token.

Either way, when the input is too long the code keeps at least three quarters of the token
budget, and each side loses its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from mucode.core.errors import ConfigError

CODE_SHARE = 0.75
_USER, _ANSWER = "\x00prompt\x00", "\x00answer\x00"  # stand-ins located in the template


class InputFormat(str, Enum):
    """How a verifier lays out its input; recorded in ``verifier.json``."""

    PAIR = "pair"
    CHAT = "chat"


def code_segment(code: str) -> str:
    """How a candidate is shown to an encoder: as the generator writes it, after the prompt."""
    return f"\n```python\n{code}\n```"


def answer_text(code: str) -> str:
    """How a candidate is shown to a decoder: the assistant turn of a code-only answer."""
    return f"```python\n{code}\n```"


def budget_split(n_prompt: int, n_code: int, budget: int) -> tuple[int, int]:
    """(prompt tokens, code tokens) kept: everything if it fits, else the code keeps at least
    ``CODE_SHARE`` of ``budget`` (all of itself when shorter) and the prompt the rest."""
    if n_prompt + n_code <= budget:
        return n_prompt, n_code
    keep_code = min(n_code, max(budget - n_prompt, int(budget * CODE_SHARE)))
    return budget - keep_code, keep_code


def _length(tokenizer, text: str) -> int:
    """Tokens in ``text``; measuring a long text is not a model input, so no warning."""
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _cut(tokenizer, text: str, n_tokens: int) -> str:
    """``text`` up to the end of its ``n_tokens``-th token."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= n_tokens:
        return text
    return text[: offsets[n_tokens - 1][1]] if n_tokens > 0 else ""


class PairEncoder:
    """``[CLS] prompt [SEP] code [SEP]`` through the tokenizer's pair encoding."""

    def __init__(self, tokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length

    def __call__(self, prompts: Sequence[str], codes: Sequence[str]):
        """Padded tensors for (prompt, code) pairs, each at most ``max_length`` tokens."""
        tokenizer = self.tokenizer
        budget = self.max_length - tokenizer.num_special_tokens_to_add(pair=True)
        firsts, seconds = [], []
        for prompt, code in zip(prompts, codes, strict=True):
            segment = code_segment(code)
            n_prompt, n_code = (_length(tokenizer, text) for text in (prompt, segment))
            if n_prompt + n_code > budget:
                keep_prompt, keep_code = budget_split(n_prompt, n_code, budget)
                segment = _cut(tokenizer, segment, keep_code)
                prompt = _cut(tokenizer, prompt, keep_prompt)
            firsts.append(prompt)
            seconds.append(segment)
        return tokenizer(firsts, seconds, padding=True, truncation="longest_first",
                         max_length=self.max_length, return_tensors="pt")  # fmt: skip


class ChatEncoder:
    """Template head, prompt, template middle, answer, end-of-turn token; right padded."""

    def __init__(self, tokenizer, max_length: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.head, self.middle, self.end = chat_frame(tokenizer)
        ensure_distinct_pad(tokenizer, self.end[-1])
        fixed = len(self.head) + len(self.middle) + len(self.end)
        self.budget = max_length - fixed
        if self.budget < 2:
            raise ConfigError(f"max_length {max_length} leaves no room for prompt and code: "
                              f"the chat template alone takes {fixed} tokens")  # fmt: skip

    @property
    def read_token(self) -> int:
        """The token every input ends in: the one the score head reads."""
        return self.end[-1]

    def ids(self, prompt: str, code: str) -> list[int]:
        """One input's token ids, at most ``max_length``."""
        user, answer = (
            self.tokenizer(text, add_special_tokens=False, split_special_tokens=True,
                           verbose=False)["input_ids"]
            for text in (prompt, answer_text(code))
        )  # fmt: skip
        keep_prompt, keep_code = budget_split(len(user), len(answer), self.budget)
        return self.head + user[:keep_prompt] + self.middle + answer[:keep_code] + self.end

    def __call__(self, prompts: Sequence[str], codes: Sequence[str]):
        """Right-padded ``input_ids`` and ``attention_mask`` for (prompt, code) pairs."""
        import torch
        from transformers import BatchEncoding

        rows = [self.ids(p, c) for p, c in zip(prompts, codes, strict=True)]
        width = max(map(len, rows), default=0)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):  # (B, T): real tokens first, then padding
            input_ids[i, : len(row)] = torch.tensor(row)
            attention_mask[i, : len(row)] = 1
        return BatchEncoding({"input_ids": input_ids, "attention_mask": attention_mask})


def chat_frame(tokenizer) -> tuple[list[int], list[int], list[int]]:
    """Token ids of the template around the user turn and the answer: (head, middle, end).

    ``end`` is what follows the answer up to the end-of-turn token (trailing whitespace
    dropped). Without a chat template: the tokenizer's own prefix (a BOS, if it adds one),
    a blank line, and the EOS token.
    """
    if not tokenizer.chat_template:
        if tokenizer.eos_token is None:
            raise ConfigError("a decoder verifier needs a chat template or an eos token")
        head = tokenizer("", add_special_tokens=True)["input_ids"]
        return head, _special_ids(tokenizer, "\n\n"), _special_ids(tokenizer, tokenizer.eos_token)
    messages = [{"role": "user", "content": _USER}, {"role": "assistant", "content": _ANSWER}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    if text.count(_USER) != 1 or text.count(_ANSWER) != 1:
        raise ConfigError("the chat template does not show a user turn and an answer verbatim; "
                          "a decoder verifier cannot frame its input with it")  # fmt: skip
    head, rest = text.split(_USER)
    middle, tail = rest.split(_ANSWER)
    end = tail.rstrip() or tokenizer.eos_token
    if not end:
        raise ConfigError("the chat template ends an answer with nothing and there is no eos")
    head_ids, middle_ids, end_ids = (_special_ids(tokenizer, p) for p in (head, middle, end))
    return head_ids, middle_ids, end_ids


def _special_ids(tokenizer, text: str) -> list[int]:
    """Template text: its special tokens count as such."""
    return tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]


def ensure_distinct_pad(tokenizer, read_token: int) -> None:
    """Make the pad token differ from ``read_token``, or the head would read the token
    before it: the first of pad, eos, bos, unk and the other special tokens that does."""
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id != read_token:
        return
    candidates = [tokenizer.eos_token, tokenizer.bos_token, tokenizer.unk_token,
                  *tokenizer.all_special_tokens]  # fmt: skip
    for token in candidates:
        if token is not None and tokenizer.convert_tokens_to_ids(token) != read_token:
            tokenizer.pad_token = token
            return
    raise ConfigError("the tokenizer has no special token to pad with other than the one a "
                      "decoder verifier reads its score at")  # fmt: skip


def make_encoder(input_format: InputFormat, tokenizer,
                 max_length: int) -> PairEncoder | ChatEncoder:  # fmt: skip
    """The encoder for ``input_format``."""
    encoders = {InputFormat.PAIR: PairEncoder, InputFormat.CHAT: ChatEncoder}
    return encoders[InputFormat(input_format)](tokenizer, max_length)
