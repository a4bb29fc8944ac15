"""Tiny transformer building blocks with the attention written out explicitly.

Every attention layer computes

    scores = (q @ k^T) * scale + mask_bias        # [batch, heads, query, key]
    probs  = softmax(scores, dim=-1)              # -> one 4-D ONNX Softmax node per layer
    ctx    = probs @ v

so that the exported ONNX graph (TorchScript exporter, opset 14) contains exactly one
`Softmax` node per layer whose output is the attention-probability tensor. No fused
attention ops are used.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_BIAS = -10000.0


class SelfAttention(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float = 0.1):
        super().__init__()
        assert hidden % heads == 0
        self.heads = heads
        self.head_dim = hidden // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.attn_dropout = nn.Dropout(dropout)

    def _split(self, x):  # [B, S, H] -> [B, heads, S, head_dim]
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, bias):
        """x: [B, S, H]; bias: additive mask broadcastable to [B, heads, S, S]."""
        b, s, h = x.shape
        q = self._split(self.query(x))
        k = self._split(self.key(x))
        v = self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * self.scale + bias
        probs = torch.softmax(scores, dim=-1)  # [B, heads, S, S]
        probs = self.attn_dropout(probs)
        ctx = torch.matmul(probs, v)  # [B, heads, S, head_dim]
        ctx = ctx.transpose(1, 2).reshape(b, s, h)
        return self.out(ctx)


class FeedForward(nn.Module):
    def __init__(self, hidden: int, inner: int, dropout: float = 0.1):
        super().__init__()
        self.fc1 = nn.Linear(hidden, inner)
        self.fc2 = nn.Linear(inner, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.fc2(F.gelu(self.fc1(x))))  # exact (erf) GELU


class PostLNBlock(nn.Module):
    """BERT encoder layer: x = LN(x + attn(x)); x = LN(x + ffn(x))."""

    def __init__(self, hidden, heads, inner, dropout=0.1):
        super().__init__()
        self.attention = SelfAttention(hidden, heads, dropout)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn = FeedForward(hidden, inner, dropout)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, bias):
        x = self.ln1(x + self.dropout(self.attention(x, bias)))
        return self.ln2(x + self.ffn(x))


class PreLNBlock(nn.Module):
    """GPT-2 block: x = x + attn(LN(x)); x = x + ffn(LN(x))."""

    def __init__(self, hidden, heads, inner, dropout=0.1):
        super().__init__()
        self.ln1 = nn.LayerNorm(hidden, eps=1e-5)
        self.attention = SelfAttention(hidden, heads, dropout)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-5)
        self.ffn = FeedForward(hidden, inner, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, bias):
        x = x + self.dropout(self.attention(self.ln1(x), bias))
        return x + self.ffn(self.ln2(x))


def padding_bias(attention_mask):
    """[B, S] int64 (1 = token, 0 = padding) -> [B, 1, 1, S] additive bias."""
    m = attention_mask[:, None, None, :].to(torch.float32)
    return (1.0 - m) * MASK_BIAS


class TinyBertClassifier(nn.Module):
    """BERT-style encoder + tanh pooler over [CLS] + linear classifier. Output: logits [B, C]."""

    def __init__(self, vocab_size, hidden=64, heads=4, layers=2, inner=256, max_len=128,
                 num_labels=2, dropout=0.1, pad_id=0):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, hidden, padding_idx=pad_id)
        self.pos_emb = nn.Embedding(max_len, hidden)
        self.emb_ln = nn.LayerNorm(hidden, eps=1e-12)
        self.emb_dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(PostLNBlock(hidden, heads, inner, dropout) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.cls_dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_labels)
        self.apply(_init_weights)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        pos = torch.arange(s, device=input_ids.device)
        x = self.tok_emb(input_ids) + self.pos_emb(pos)[None, :, :]
        x = self.emb_dropout(self.emb_ln(x))
        bias = padding_bias(attention_mask)
        for layer in self.layers:
            x = layer(x, bias)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(self.cls_dropout(pooled))


class TinyCausalLM(nn.Module):
    """GPT-2-style pre-LN decoder with a tied LM head. Output: logits [B, S, V]."""

    def __init__(self, vocab_size, hidden=64, heads=4, layers=2, inner=256, max_len=128,
                 dropout=0.1):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, hidden)
        self.pos_emb = nn.Embedding(max_len, hidden)
        self.emb_dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(PreLNBlock(hidden, heads, inner, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=1e-5)
        self.apply(_init_weights)

    def forward(self, input_ids, attention_mask):
        s = input_ids.shape[1]
        pos = torch.arange(s, device=input_ids.device)
        x = self.emb_dropout(self.tok_emb(input_ids) + self.pos_emb(pos)[None, :, :])
        # causal mask AND padding mask, both additive; key j is hidden from query i when j > i
        causal = (pos[None, :] > pos[:, None]).to(torch.float32) * MASK_BIAS  # [S, S]
        bias = causal[None, None, :, :] + padding_bias(attention_mask)  # [B, 1, S, S]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.ln_f(x)
        return torch.matmul(x, self.tok_emb.weight.t())  # tied LM head


def _init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Embedding):
        nn.init.normal_(m.weight, std=0.02)
        if m.padding_idx is not None:
            with torch.no_grad():
                m.weight[m.padding_idx].zero_()
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
