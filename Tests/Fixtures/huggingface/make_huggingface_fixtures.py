"""Writes small Hugging Face model folders and the outputs `transformers` computes for them.

Run from the repository root (needs torch, transformers, tokenizers, safetensors, numpy):

    python3 Tests/Fixtures/huggingface/make_huggingface_fixtures.py [PART ...]

with no PART for everything, or some of bert, gpt2, vit, roberta, tokenizer_cases,
export_onnx (each model draws from its own seeded generator, so one can be remade alone).

Every model has the real layout of its architecture at a tiny size and random weights from
a fixed seed: a check of numerics and naming, not of what a trained model has learned.
Weights are rounded to the precision they are stored in, so that the reference, computed in
float32, sees exactly the weights repprobe reads.

- bert/        BERT encoder, model.safetensors in bfloat16, WordPiece tokenizer
               (vocab.txt, tokenizer.json, tokenizer_config.json)
- gpt2/        GPT-2 decoder, safetensors sharded in two (model.safetensors.index.json),
               float16, byte-level BPE tokenizer (vocab.json, merges.txt, tokenizer.json)
- vit/         ViT encoder, pytorch_model.bin (a torch.save state dict), float32
- roberta/     RoBERTa encoder saved as RobertaForMaskedLM saves it (weights under
               `roberta.`, a masked-LM head beside them, no pooler), float32 safetensors,
               byte-level BPE tokenizer with RoBERTa's <s> … </s> template (tokenizer.json)
- onnx/NAME.onnx  each model exported by torch.onnx.export (the torch.export-based exporter,
               opset 18 (at 17 it writes an invalid Split for GPT-2), dynamic batch and
               sequence, default optimisation), from float32
               weights; onnx/bert-unfolded.onnx with optimize=False, which keeps every
               parameter's name (for a state-dict swap)
- NAME/reference.npz   inputs and outputs, keyed:
      input.NAME                      each model input (int64 ids and masks, or pixels)
      hidden.K                        hidden_states[K] (embeddings, then each layer)
      attention.K                     attentions[K], softmax probabilities [B, heads, S, S]
      module.PATH                     the output of module PATH (a PyTorch forward hook)
"""
import json
import os
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

CORPUS = [
    "the cat sat on the mat while the dog slept by the door",
    "a quick brown fox jumps over the lazy dog",
    "neural networks learn representations in their hidden layers",
    "transformers attend to every token of the sentence at once",
    "the river runs past the old mill and into the sea",
    "she reads the paper every morning before work",
    "prices rose sharply after the storm closed the port",
    "the team won the final match in extra time",
    "layers near the input encode edges and colours",
    "Grammar, punctuation; and numbers like 42 or 3.14 appear too!",
    "unbelievably long words such as internationalisation and representational",
    "Café au lait, naïve façade, Zürich and São Paulo — déjà vu",
    "Ελληνικά ΣΟΦΙΑ σοφία, русский текст, 漢字と日本語のテキスト, 한국어",
    "emoji 👍🏽 and symbols © ® ™ € £ ¥ § ¶ † ‡ • … ‰ ′ ″",
    "don't you think it's what we'll do? I'M SURE they've gone, he'd say",
]


def round_weights(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))
        for name, b in model.named_buffers():
            if b.is_floating_point():
                b.copy_(b.to(dtype).to(torch.float32))


def randomise(model):
    """Non-trivial LayerNorm parameters and biases (the defaults are 1 and 0)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name or "layernorm" in name or "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))


def hook_modules(model, paths):
    outputs = {}

    def make(path):
        def hook(_module, _inputs, output):
            value = output[0] if isinstance(output, tuple) else output
            outputs[path] = value.detach().numpy().copy()
        return hook

    handles = [model.get_submodule(p).register_forward_hook(make(p)) for p in paths]
    return outputs, handles


def reference(model, inputs, paths, folder):
    outputs, handles = hook_modules(model, paths)
    with torch.no_grad():
        result = model(**inputs, output_hidden_states=True, output_attentions=True)
    for h in handles:
        h.remove()
    arrays = {f"input.{k}": v.numpy() for k, v in inputs.items()}
    for k, h in enumerate(result.hidden_states):
        arrays[f"hidden.{k}"] = h.numpy()
    for k, a in enumerate(result.attentions):
        arrays[f"attention.{k}"] = a.numpy()
    for path, value in outputs.items():
        arrays[f"module.{path}"] = value
    np.savez(os.path.join(folder, "reference.npz"), **arrays)


def wordpiece_tokenizer(folder):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=None, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(CORPUS, trainer)
    vocab = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        for token, _ in vocab:
            f.write(token + "\n")
    # The tokenizer a BERT folder carries: made from vocab.txt as Hugging Face makes it.
    fast = transformers.BertTokenizerFast(vocab=os.path.join(folder, "vocab.txt"), do_lower_case=True)
    fast.save_pretrained(folder)
    return fast


def bpe_tokenizer(folder):
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(CORPUS, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>"])
    tok.save_model(folder)  # vocab.json, merges.txt
    fast = transformers.GPT2TokenizerFast(
        vocab=os.path.join(folder, "vocab.json"), merges=os.path.join(folder, "merges.txt"),
        unk_token="<|endoftext|>", bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    fast.save_pretrained(folder)
    return fast


def bert():
    folder = os.path.join(HERE, "bert")
    os.makedirs(folder, exist_ok=True)
    tokenizer = wordpiece_tokenizer(folder)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=48, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu",
        layer_norm_eps=1e-12, pad_token_id=tokenizer.pad_token_id)
    config._attn_implementation = "eager"
    model = transformers.BertModel(config).eval()
    randomise(model)
    round_weights(model, torch.bfloat16)
    state = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    config.to_json_file(os.path.join(folder, "config.json"))
    batch = tokenizer(["the cat sat on the mat", "neural networks learn representations in their hidden layers"],
                      padding=True, return_tensors="pt")
    batch["token_type_ids"][1, 6:] = 1 * batch["attention_mask"][1, 6:]
    paths = ["embeddings", "encoder.layer.0.attention.self", "encoder.layer.0.attention.output",
             "encoder.layer.0.intermediate", "encoder.layer.1.output", "encoder.layer.1", "pooler"]
    reference(model, dict(batch), paths, folder)


def gpt2():
    folder = os.path.join(HERE, "gpt2")
    os.makedirs(folder, exist_ok=True)
    tokenizer = bpe_tokenizer(folder)
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_positions=40, n_embd=32, n_layer=2, n_head=4,
        activation_function="gelu_new", layer_norm_epsilon=1e-5,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    config._attn_implementation = "eager"
    model = transformers.GPT2Model(config).eval()
    randomise(model)
    round_weights(model, torch.float16)
    # Two shards, as save_pretrained writes a model too large for one file.
    state = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items() if not k.endswith(".attn.bias")}
    names = list(state)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    weight_map = {}
    for shard, keys in shards.items():
        save_file({k: state[k] for k in keys}, os.path.join(folder, shard), metadata={"format": "pt"})
        weight_map.update({k: shard for k in keys})
    total = sum(v.numel() * v.element_size() for v in state.values())
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    config.to_json_file(os.path.join(folder, "config.json"))
    tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(["the cat sat on the mat", "neural networks learn representations in their hidden layers"],
                      padding=True, return_tensors="pt")
    paths = ["wte", "h.0.ln_1", "h.0.attn", "h.0.mlp.act", "h.0.mlp", "h.1", "ln_f"]
    reference(model, dict(batch), paths, folder)


def roberta():
    from tokenizers import ByteLevelBPETokenizer
    folder = os.path.join(HERE, "roberta")
    os.makedirs(folder, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(folder)  # vocab.json, merges.txt
    tokenizer = transformers.RobertaTokenizerFast(
        vocab=os.path.join(folder, "vocab.json"), merges=os.path.join(folder, "merges.txt"))
    tokenizer.save_pretrained(folder)
    config = transformers.RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
        max_position_embeddings=42, type_vocab_size=1, hidden_act="gelu", layer_norm_eps=1e-5,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    config._attn_implementation = "eager"
    with torch.random.fork_rng():
        torch.manual_seed(4)
        masked = transformers.RobertaForMaskedLM(config).eval()
        randomise(masked)
    model = masked.roberta
    # The decoder of the head is tied to the word embeddings; save_pretrained leaves it out.
    state = {k: v.clone().contiguous() for k, v in masked.state_dict().items() if k != "lm_head.decoder.weight"}
    save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    config.architectures = ["RobertaForMaskedLM"]
    config.to_json_file(os.path.join(folder, "config.json"))
    batch = tokenizer(["the cat sat on the mat", "neural networks learn representations in their hidden layers"],
                      padding=True, return_tensors="pt")
    paths = ["embeddings", "encoder.layer.0.attention.self", "encoder.layer.0.attention.output",
             "encoder.layer.0.intermediate", "encoder.layer.1"]
    reference(model, dict(batch), paths, folder)


def vit():
    folder = os.path.join(HERE, "vit")
    os.makedirs(folder, exist_ok=True)
    config = transformers.ViTConfig(
        image_size=32, patch_size=8, num_channels=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=48, hidden_act="gelu", layer_norm_eps=1e-12, qkv_bias=True)
    config._attn_implementation = "eager"
    model = transformers.ViTModel(config).eval()
    randomise(model)
    with torch.no_grad():
        model.embeddings.cls_token.normal_()
        model.embeddings.position_embeddings.normal_(std=0.5)
    # The weight names of the checkpoints on the Hub (transformers 4), whatever the
    # installed transformers calls its modules.
    torch.save({classic_vit_name(k): v for k, v in model.state_dict().items()}, os.path.join(folder, "pytorch_model.bin"))
    config.to_json_file(os.path.join(folder, "config.json"))
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump({"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 32, "width": 32},
                   "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                   "do_rescale": True, "rescale_factor": 1 / 255}, f, indent=2)
    pixels = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    paths = ["embeddings", "encoder.layer.0.layernorm_before", "encoder.layer.0.attention", "encoder.layer.0.intermediate",
             "encoder.layer.1", "layernorm", "pooler"]
    names = {classic_vit_name(n): n for n, _ in model.named_modules()}
    names["encoder.layer.0.intermediate"] = names.get("encoder.layer.0.intermediate.intermediate_act_fn",
                                                      names.get("encoder.layer.0.intermediate"))
    outputs, handles = hook_modules(model, [names[p] for p in paths])
    with torch.no_grad():
        result = model(pixel_values=pixels, output_hidden_states=True, output_attentions=True)
    for h in handles:
        h.remove()
    arrays = {"input.pixel_values": pixels.numpy()}
    arrays.update({f"hidden.{k}": h.numpy() for k, h in enumerate(result.hidden_states)})
    arrays.update({f"attention.{k}": a.numpy() for k, a in enumerate(result.attentions)})
    arrays.update({f"module.{p}": outputs[names[p]] for p in paths})
    np.savez(os.path.join(folder, "reference.npz"), **arrays)


def classic_vit_name(name):
    """transformers 5 names ViT's modules layers.N.attention.q_proj, mlp.fc1, …; checkpoints
    and transformers 4 say encoder.layer.N.attention.attention.query, intermediate.dense, …"""
    import re
    renames = [(r"^layers\.(\d+)\.attention\.q_proj", r"encoder.layer.\1.attention.attention.query"),
               (r"^layers\.(\d+)\.attention\.k_proj", r"encoder.layer.\1.attention.attention.key"),
               (r"^layers\.(\d+)\.attention\.v_proj", r"encoder.layer.\1.attention.attention.value"),
               (r"^layers\.(\d+)\.attention\.o_proj", r"encoder.layer.\1.attention.output.dense"),
               (r"^layers\.(\d+)\.mlp\.fc1", r"encoder.layer.\1.intermediate.dense"),
               (r"^layers\.(\d+)\.mlp\.activation_fn", r"encoder.layer.\1.intermediate.intermediate_act_fn"),
               (r"^layers\.(\d+)\.mlp\.fc2", r"encoder.layer.\1.output.dense"),
               (r"^layers\.(\d+)", r"encoder.layer.\1")]
    for pattern, target in renames:
        name, n = re.subn(pattern, target, name)
        if n:
            break
    return name

def sentences():
    """Varied text: Unicode, punctuation, spacing, long words, special-token literals."""
    import random
    handwritten = [
        "", " ", "   ", "\t", "a", "A", "Hello, world!", "hello   world", "  leading and trailing  ",
        "tab\tseparated\twords", "line\nbreak", "non\u00a0breaking space", "ideographic\u3000space",
        "zero\u200bwidth joiner", "bell\u0007control", "e\u0301 combining acute vs é precomposed",
        "Straße STRASSE straße", "İstanbul ıi", "ΣΑΣ σας ΌΣΟΣ", "漢字かなカナ", "中文分词测试", "😀👍🏽🇫🇷",
        "مرحبا بالعالم", "שלום", "don't", "DON'T", "it's 'tis 'll 've 're 'd 'm 's", "I'M", "'quoted'",
        "3.14159 1,000,000 -42 +7 1e-5", "x += 1; y = f(x) // comment", "https://example.org/path?q=1&r=2",
        "user@example.com", "#hashtag @mention $100 50% ^caret ~tilde `tick` |pipe| <angle> {brace} [bracket]",
        "pneumonoultramicroscopicsilicovolcanoconiosis" * 3, "supercalifragilisticexpialidocious",
        "[CLS] literal [SEP] and [MASK] tokens", "[cls] lower", "<|endoftext|> special in text<|endoftext|>",
        "...", "?!?!", "—–-", "«guillemets» „quotes“ “curly” ‘single’", "a\u0000b", "\ufffd replacement",
        "  \t\n  ", "end with space ", " start with space", "many     inner      spaces",
        "MiXeD CaSe WoRdS", "numbers123mixed456", "under_score and-hyphen", "ÅÄÖ åäö Øø Ææ", "ﬁ ligature ﬂ",
        "Ⅻ roman ½ fraction ² superscript", "café" * 20,
    ]
    rng = random.Random(0)
    words = " ".join(CORPUS).split() + ["Zürich", "naïve", "漢字", "👍", "don't", "x=1", "3.14", "ΣΟΦΙΑ", "!!", "…"]
    joints = [" ", "  ", ", ", ". ", "\t", " - ", "'", "", "\u00a0"]
    generated = []
    for _ in range(300):
        n = rng.randint(1, 14)
        text = ""
        for i in range(n):
            word = rng.choice(words)
            word = word.upper() if rng.random() < 0.1 else word.capitalize() if rng.random() < 0.2 else word
            text += (rng.choice(joints) if i else "") + word
        generated.append(text)
    return handwritten + generated


def tokenizer_cases():
    from tokenizers import Tokenizer, BertWordPieceTokenizer, ByteLevelBPETokenizer
    texts = sentences()
    bert_json = Tokenizer.from_file(os.path.join(HERE, "bert", "tokenizer.json"))
    bert_vocab = BertWordPieceTokenizer(os.path.join(HERE, "bert", "vocab.txt"), lowercase=True)
    gpt2_json = Tokenizer.from_file(os.path.join(HERE, "gpt2", "tokenizer.json"))
    gpt2_files = ByteLevelBPETokenizer(os.path.join(HERE, "gpt2", "vocab.json"), os.path.join(HERE, "gpt2", "merges.txt"))
    gpt2_files.add_special_tokens(["<|endoftext|>"])
    roberta_json = Tokenizer.from_file(os.path.join(HERE, "roberta", "tokenizer.json"))
    cases = {"sentences": texts, "bert": [], "gpt2": [], "roberta": [roberta_json.encode(text).ids for text in texts]}
    for text in texts:
        a, b = bert_json.encode(text).ids, bert_vocab.encode(text).ids
        assert a == b, (text, a, b)
        c, d = gpt2_json.encode(text).ids, gpt2_files.encode(text).ids
        assert c == d, (text, c, d)
        cases["bert"].append(a)
        cases["gpt2"].append(c)
    with open(os.path.join(HERE, "tokenizer_cases.json"), "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=0)


def export_onnx():
    """torch.onnx.export of each folder, as a user would export it."""
    import contextlib
    import io
    import onnx
    folder = os.path.join(HERE, "onnx")
    os.makedirs(folder, exist_ok=True)
    batch, sequence = torch.export.Dim("batch", min=1, max=64), torch.export.Dim("sequence", min=1, max=40)
    ids = torch.tensor([[2, 66, 128, 3, 0], [2, 5, 6, 7, 3]])
    text = {"input_ids": ids, "attention_mask": (ids != 0).long()}
    exports = [
        ("bert", transformers.BertModel, dict(text, token_type_ids=torch.zeros_like(ids)), True),
        ("bert-unfolded", transformers.BertModel, dict(text, token_type_ids=torch.zeros_like(ids)), False),
        ("gpt2", transformers.GPT2Model, dict(text, use_cache=False), True),
        ("vit", transformers.ViTModel, {"pixel_values": torch.randn(2, 3, 32, 32)}, True),
    ]
    for name, cls, kwargs, optimize in exports:
        source = name.split("-")[0]
        model = cls.from_pretrained(os.path.join(HERE, source), attn_implementation="eager", dtype=torch.float32).eval()
        tensors = [k for k, v in kwargs.items() if torch.is_tensor(v)]
        shapes = {k: ({0: batch, 1: sequence} if k != "pixel_values" else {0: batch}) if k in tensors else None for k in kwargs}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            program = torch.onnx.export(model, (), kwargs=kwargs, input_names=tensors, dynamic_shapes=shapes,
                                        opset_version=18, dynamo=True, external_data=False, optimize=optimize)
        proto = program.model_proto
        for node in proto.graph.node:
            # Stack traces hold paths of the machine that ran the export.
            keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)
        onnx.checker.check_model(proto)
        onnx.save(proto, os.path.join(folder, f"{name}.onnx"))


if __name__ == "__main__":
    import tokenizers
    print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__, "torch", torch.__version__, file=sys.stderr)
    parts = {"bert": bert, "gpt2": gpt2, "vit": vit, "roberta": roberta, "tokenizer_cases": tokenizer_cases,
             "export_onnx": export_onnx}
    for name in sys.argv[1:] or list(parts):
        parts[name]()
