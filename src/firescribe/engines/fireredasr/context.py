"""Contextual biasing (hotwords) for the AED beam search: an Aho-Corasick automaton over token ids.

Each hotword is a token sequence with a weight (a bonus in log-probability per token). The
automaton's state is the longest suffix of the hypothesis that begins some hotword. A token
that extends that match earns its bonus; a token that breaks it off takes back the bonus of
the unfinished part, keeping that of any hotword completed inside it (the ``kept`` score).
So a hypothesis ends up with the bonus of the hotwords it completed, and none for partial
ones; EOS takes back what is still unfinished. The same idea as WeNet's and icefall's context
graphs and sherpa-onnx's hotwords; this formulation is ours:

    total bonus = sum of kept scores at each break-off + score(current state)
    score(n)    = sum of the token bonuses on the path root -> n (a token shared by several
                  hotwords' prefixes gets the largest of their weights)
    kept(n)     = largest bonus (weight x tokens) of a hotword that occurs inside root -> n

A step from state ``n`` with token ``x`` to state ``m`` adds ``score(m) - score(n)`` when ``x``
extends the match (``m`` a child of ``n``), else ``kept(n) - score(n) + score(m)``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import torch
from torch import Tensor

ROOT = 0


@dataclass
class _Node:
    token: int
    parent: int
    weight: float  # bonus of this node's token
    children: dict[int, int] = field(default_factory=dict)
    score: float = 0.0
    kept: float = 0.0
    end_score: float = 0.0  # bonus of the hotword that ends here (its weight x its tokens), else 0
    fail: int = ROOT


class ContextGraph:
    """Hotwords as token-id sequences with per-token weights, compiled once per decoding job."""

    def __init__(self, hotwords: list[tuple[list[int], float]], vocab_size: int):
        """``hotwords``: (token ids, bonus per token); empty sequences and zero weights are ignored."""
        self.vocab_size = vocab_size
        self.nodes = [_Node(token=-1, parent=ROOT, weight=0.0)]
        for tokens, weight in hotwords:
            if tokens and weight > 0:
                self._insert(tokens, weight)
        self._link()
        # tables live on the CPU, each copied once to the device a search runs on (bonus)
        self._root_bonus = torch.zeros(vocab_size, device="cpu")  # [V] bonus of starting a match at each token
        for token, child in self.nodes[ROOT].children.items():
            self._root_bonus[token] = self.nodes[child].score
        self._sparse: dict[int, tuple[Tensor, Tensor]] = {}  # state -> its tokens/values beyond the root's
        self._devices: dict[torch.device, Tensor] = {}

    def __len__(self) -> int:
        """Number of states (the root included)."""
        return len(self.nodes)

    def _insert(self, tokens: list[int], weight: float) -> None:
        n = ROOT
        for token in tokens:
            child = self.nodes[n].children.get(token)
            if child is None:
                child = len(self.nodes)
                self.nodes.append(_Node(token=token, parent=n, weight=weight))
                self.nodes[n].children[token] = child
            else:  # a shared prefix takes the larger weight of the hotwords through it
                self.nodes[child].weight = max(self.nodes[child].weight, weight)
            n = child
        self.nodes[n].end_score = max(self.nodes[n].end_score, weight * len(tokens))

    def _link(self) -> None:
        """Scores, failure links and kept scores, breadth first (parents and suffixes first)."""
        queue = deque(self.nodes[ROOT].children.values())
        while queue:
            i = queue.popleft()
            node = self.nodes[i]
            parent = self.nodes[node.parent]
            node.score = parent.score + node.weight
            node.fail = ROOT if node.parent == ROOT else self._goto(parent.fail, node.token)
            node.kept = max(node.end_score, parent.kept, self.nodes[node.fail].kept)
            queue.extend(node.children.values())

    def _goto(self, state: int, token: int) -> int:
        """The state after ``token`` (Aho-Corasick: follow failure links until a child matches)."""
        while True:
            child = self.nodes[state].children.get(token)
            if child is not None:
                return child
            if state == ROOT:
                return ROOT
            state = self.nodes[state].fail

    def step_bonus(self, state: int, token: int) -> tuple[float, int]:
        """(bonus, next state) of appending ``token`` in ``state``."""
        node = self.nodes[state]
        nxt = self._goto(state, token)
        if token in node.children:
            return self.nodes[nxt].score - node.score, nxt
        return node.kept - node.score + self.nodes[nxt].score, nxt

    def final_bonus(self, state: int) -> float:
        """Bonus of ending the hypothesis in ``state``: the unfinished part is taken back."""
        node = self.nodes[state]
        return node.kept - node.score

    def _beyond_root(self, state: int) -> tuple[Tensor, Tensor]:
        """The tokens whose bonus in ``state`` differs from ``final_bonus + root bonus``: those
        that extend the match of ``state`` or of a suffix of it (not the root)."""
        if state not in self._sparse:
            tokens: dict[int, float] = {}
            s = state
            while s != ROOT:
                for token in self.nodes[s].children:
                    if token not in tokens:
                        bonus, _ = self.step_bonus(state, token)
                        tokens[token] = bonus - self.final_bonus(state) - float(self._root_bonus[token])
                s = self.nodes[s].fail
            self._sparse[state] = (
                torch.tensor(list(tokens), dtype=torch.long, device="cpu"),
                torch.tensor(list(tokens.values()), device="cpu"),
            )
        return self._sparse[state]

    def bonus(self, states: list[int], eos: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """Per hypothesis state, the bonus of every next token: [R, V]; EOS gets ``final_bonus``."""
        if device not in self._devices:
            self._devices[device] = self._root_bonus.to(device)
        base = torch.tensor([self.final_bonus(s) for s in states], device=device)  # [R]
        out = base[:, None] + self._devices[device][None, :]  # [R, V]
        rows, cols, vals = [], [], []
        for r, s in enumerate(states):
            if s != ROOT:
                tokens, values = self._beyond_root(s)
                rows.append(torch.full_like(tokens, r))
                cols.append(tokens)
                vals.append(values)
        if rows:
            index = (torch.cat(rows).to(device), torch.cat(cols).to(device))
            out.index_put_(index, torch.cat(vals).to(device), accumulate=True)
        out[:, eos] = base
        return out.to(dtype)

    def advance(self, states: list[int], tokens: list[int]) -> list[int]:
        """The next state of each hypothesis after its chosen token."""
        return [self._goto(s, t) for s, t in zip(states, tokens)]
