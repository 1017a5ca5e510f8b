"""A toy sentiment set at the scale of the paper's (58 train / 20 test, 18 words): 60 / 20, 20 words.

Sentences are "<subject> <verb> [not] [very|really|quite] <adjective> [now|today|earlier]";
the label is positive when the adjective is positive and not negated, so a model
must read the negation ("this is not good") rather than count words. The split
is fixed: every test sentence is a combination unseen in training.
"""

from __future__ import annotations

import itertools

import numpy as np

SUBJECTS = (("i", "am"), ("this", "is"), ("this", "was"))
INTENSIFIERS = ("", "very", "really", "quite")
ADJECTIVES = {"good": True, "happy": True, "right": True, "bad": False, "sad": False}
ENDINGS = ("", "now", "today", "earlier")
VOCABULARY = ("i", "am", "this", "is", "was", "not", "very", "really", "quite", "good", "happy", "right",
              "bad", "sad", "now", "today", "earlier", "at", "all", "movie")


def _all_sentences():
    rows = []
    for (subject, verb), negated, intensifier, (adjective, positive), ending in itertools.product(
            SUBJECTS, (False, True), INTENSIFIERS, ADJECTIVES.items(), ENDINGS):
        words = [subject, verb] + (["not"] if negated else []) + ([intensifier] if intensifier else [])
        words += [adjective] + ([ending] if ending else [])
        if negated and not intensifier and ending == "":
            words += ["at", "all"]
        rows.append((" ".join(words), positive != negated))
    return rows


def load_sentiment(train_size: int = 60, test_size: int = 20, seed: int = 7):
    """(train, test): lists of (sentence, label) with labels True = positive; balanced-ish, fixed by ``seed``."""
    rows = _all_sentences()
    order = np.random.default_rng(seed).permutation(len(rows))
    chosen = [rows[i] for i in order[: train_size + test_size]]
    return chosen[:train_size], chosen[train_size:]


def encode(sentence: str) -> np.ndarray:
    """One-hot sequence, shape (words, vocabulary size); unknown words raise ValueError."""
    index = {word: i for i, word in enumerate(VOCABULARY)}
    words = sentence.split()
    unknown = [w for w in words if w not in index]
    if unknown:
        raise ValueError(f"words not in the vocabulary: {unknown}")
    out = np.zeros((len(words), len(VOCABULARY)), dtype=np.float32)
    out[np.arange(len(words)), [index[w] for w in words]] = 1.0
    return out
