"""Tiny randomly initialised Hugging Face checkpoints, built offline in well under a second:
a byte-level BPE tokenizer trained on a few lines and a 2-layer Qwen2 (or Llama); and the
same model written as a float32 GGUF that llama.cpp (and transformers) load."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = (
    "def add(a, b):\n    return a + b",
    "def sub(a, b):\n    return a - b",
    "user assistant hello",
    "```python\n```",
)


def save_tiny_qwen2(path: Path, corpus: tuple[str, ...] = CORPUS, seed: int = 0) -> Path:
    """Write a tokenizer (with a chat template) and a random Qwen2ForCausalLM to ``path``."""
    return save_tiny_causal_lm(path, "qwen2", corpus, seed)


def save_tiny_causal_lm(path: Path, arch: str = "qwen2", corpus: tuple[str, ...] = CORPUS,
                        seed: int = 0) -> Path:  # fmt: skip
    """Write a tokenizer (with a chat template) and a random ``arch`` (qwen2 or llama) causal
    LM to ``path``."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    raw.train_from_iterator(corpus, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    config_class, model_class = {
        "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
        "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
    }[arch]
    config = config_class(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(seed)
    model_class(config).save_pretrained(path)
    return path


def save_tiny_gguf(model_dir: Path, out: Path) -> Path:
    """Write the tiny model in ``model_dir`` as a float32 GGUF with its tokenizer (byte-level
    BPE, GPT-2 pre-tokenizer) and chat template, the way llama.cpp's converter lays it out."""
    import gguf
    import numpy as np
    import transformers

    from mucode.training.gguf_adapter import rotary_rows

    config = transformers.AutoConfig.from_pretrained(model_dir)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    arch = config.model_type
    writer = gguf.GGUFWriter(out, arch)
    writer.add_name(f"tiny {arch}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_parameters["rope_theta"])
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    _add_tokenizer(writer, model_dir, tokenizer)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], config.num_hidden_layers)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype="float32")
    for name, tensor in model.state_dict().items():
        array = tensor.numpy()
        if arch == "llama" and name.endswith(("q_proj.weight", "k_proj.weight")):
            heads = config.num_attention_heads if "q_proj" in name else config.num_key_value_heads
            array = rotary_rows(array, heads)  # llama.cpp's rotary order for Llama q/k rows
        writer.add_tensor(names.get_name(name, try_suffixes=(".weight", ".bias")),
                          np.ascontiguousarray(array, dtype=np.float32))  # fmt: skip
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def _add_tokenizer(writer, model_dir: Path, tokenizer) -> None:
    import json

    import gguf

    vocab = tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.get)
    special = {t.content for t in tokenizer.added_tokens_decoder.values()}  # <|im_start|> too
    merges = json.loads((model_dir / "tokenizer.json").read_text())["model"]["merges"]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL
                            for t in tokens])  # fmt: skip
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_bos_token_id(tokenizer.pad_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_add_bos_token(False)
    writer.add_chat_template(tokenizer.chat_template)


def sharpen_tiny_model(path: Path, scale: float = 40.0) -> Path:
    """Rewrite the tiny model in ``path`` so greedy decoding compares exactly across engines:
    a scaled LM head (clear winners, no near-ties) whose rows for special tokens and tokens
    that are not printable ASCII are zero (never chosen, so no partial UTF-8 in the text)."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path)
    keep = torch.zeros(len(tokenizer), 1)
    special = set(tokenizer.added_tokens_decoder)
    for token_id in range(len(tokenizer)):
        text = tokenizer.decode([token_id])
        keep[token_id] = token_id not in special and text.isascii() and text.isprintable()
    with torch.no_grad():
        model.lm_head.weight.mul_(keep * scale)
    model.save_pretrained(path)
    return path


def save_tiny_bert(path: Path, seed: int = 0) -> Path:
    """Write a WordPiece tokenizer and a random 2-layer BertModel to ``path``: an encoder
    laid out like all-MiniLM-L6-v2, in well under a second."""
    import string

    import torch
    import transformers

    path.mkdir(parents=True, exist_ok=True)
    words = ["def", "return", "add", "sub", "python", "solve", "mbpp"]
    pieces = [*string.printable.strip(), *(f"##{c}" for c in string.ascii_lowercase), *words]
    vocab = dict.fromkeys(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *pieces])
    tokenizer = transformers.BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    tokenizer.save_pretrained(path)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)
    transformers.BertModel(config).save_pretrained(path)
    return path
