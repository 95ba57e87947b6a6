#!/usr/bin/env python3
"""Builds data/classify/: sentences labelled by their source (austen, bible,
brown, sotu) from ../shared/data/en_pretrain/en_pretrain.txt, all public
domain or freely redistributable. Train and dev come from different documents,
so dev measures style, not memorised passages. Deterministic: no randomness.

    python3 scripts/make_classify_data.py [../shared/data/en_pretrain/en_pretrain.txt]
"""
import hashlib
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/en_pretrain/en_pretrain.txt"
# Document ranges of en_pretrain.txt (see its README): Austen chapters, State of
# the Union addresses, KJV chapters, Brown documents.
RANGES = [("austen", 0, 275), ("sotu", 275, 508), ("bible", 508, 1697), ("brown", 1697, 2197)]
TRAIN_PER_LABEL, HELDOUT_PER_LABEL = 500, 100


def documents(path):
    doc = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                doc.append(line)
            elif doc:
                yield doc
                doc = []
    if doc:
        yield doc


def usable(sentence):
    words = sentence.split()
    return 6 <= len(words) <= 40 and "\t" not in sentence


def pick(docs, per_label):
    # Spread the picks over the documents: every k-th usable sentence.
    pool = [s for d in docs for s in d if usable(s)]
    step = max(1, len(pool) // per_label)
    return pool[::step][:per_label]


def main():
    docs = list(documents(SOURCE))
    train, dev, test = [], [], []
    for label, begin, end in RANGES:
        ids = list(range(begin, end))
        # Documents 4 and 2 of every five are held out for dev and test.
        train += [(s, label) for s in pick([docs[i] for i in ids if i % 5 in (0, 1, 3)], TRAIN_PER_LABEL)]
        dev += [(s, label) for s in pick([docs[i] for i in ids if i % 5 == 4], HELDOUT_PER_LABEL)]
        test += [(s, label) for s in pick([docs[i] for i in ids if i % 5 == 2], HELDOUT_PER_LABEL)]
    # Interleave labels so a file's head shows every class.
    def interleave(rows, per_label):
        by_label = [rows[i * per_label:(i + 1) * per_label] for i in range(len(RANGES))]
        return [r for group in zip(*by_label) for r in group]
    for name, rows, n in (("train", train, TRAIN_PER_LABEL), ("dev", dev, HELDOUT_PER_LABEL),
                          ("test", test, HELDOUT_PER_LABEL)):
        path = f"data/classify/{name}.tsv"
        with open(path, "w", encoding="utf-8") as f:
            f.write("text\tlabel\n")
            for text, label in interleave(rows, n):
                f.write(f"{text}\t{label}\n")
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        print(f"{path}: {len(rows)} rows, sha256 {digest}")


if __name__ == "__main__":
    main()
