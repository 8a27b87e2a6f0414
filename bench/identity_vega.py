#!/usr/bin/env python3
"""Identity's vega merges measured on a labelled sample.

vega's movies.json has no ids, so its labels come from a key identity never reads: money. A vega
record is labelled with the TMDB 5000 film whose budget equals its Production Budget, whose
revenue is within 1 % of its Worldwide Gross (both non-zero) and whose release year is at most one
apart — when no other film of that budget and year comes within 5 % of the gross (films of one
year and a round budget often gross alike). Money still pairs some films by coincidence, so the
labels whose titles share no word of three letters or more were read by a person: of the 44, four
are the film (CONFIRMED below: Beetle Juice, 54, U2 3D, Up) and 40 are two films of one budget and
gross (Cop Land / Wag the Dog, Collateral / The Terminal…), dropped. The sample leans to films
whose TMDB revenue is known: big releases more than small ones.
Through ml-latest-small's links.csv the same label names the MovieLens movie too.

The real load then runs, release build, in the order users run it:
  vega → TMDB 5000              scored: did each labelled vega record land on its TMDB film?
  vega → ml-latest-small        scored: on its MovieLens movie?
Precision counts a labelled record merged with another film as a false match; recall counts a
labelled record left apart (or merged wrongly) as a miss. Beside it, the baseline the load used
before identity: the same lower-cased, punctuation-free title and a year at most one apart, one
candidate. Prints a table and the mistakes.

usage: bench/identity_vega.py [MOVIEREC_BIN] (default target/release/movierec; run from the repo)
"""
import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

DATA = os.environ.get("SHARED_DATA", "../shared/data")
VEGA = "data/vega-movies/movies.json"
TMDB = f"{DATA}/tmdb-5000/tmdb_5000_movies.csv"
ML = f"{DATA}/ml-latest-small"


# vega rows whose money label was read and is the film, though no title word is shared.
CONFIRMED = {145, 1740, 3036, 3057}
STOP = {"the", "and", "of", "a", "an", "in", "on", "to", "for", "la", "le", "de"}


def words(title):
    return {w for w in re.findall(r"[a-z0-9]+", str(title).lower()) if len(w) >= 3 and w not in STOP}


def money_labels(vega, tmdb):
    """vega row (1-based) -> TMDB id, by budget and worldwide gross."""
    by_budget = {}
    for t in tmdb:
        if t["budget"] > 0 and t["revenue"] > 0:
            by_budget.setdefault(t["budget"], []).append(t)
    labels = {}
    for row, v in enumerate(vega, start=1):
        budget, gross = v.get("Production Budget") or 0, v.get("Worldwide Gross") or 0
        if budget <= 0 or gross <= 0:
            continue
        y = vega_year(v)
        # Near enough to be the film (5 %): one film only, and that one within 1 %.
        fits = [t for t in by_budget.get(budget, [])
                if abs(t["revenue"] - gross) <= 0.05 * gross
                and y is not None and t["year"] is not None and abs(t["year"] - y) <= 1]
        if len(fits) == 1 and abs(fits[0]["revenue"] - gross) <= 0.01 * gross:
            t = fits[0]
            if row in CONFIRMED or words(v.get("Title")) & (words(t["title"]) | words(t["original"])):
                labels[row] = t["id"]
    return labels


def year(text):
    m = re.search(r"(\d{4})", text or "")
    return int(m.group(1)) if m else None


def vega_year(v):
    m = re.search(r"(\d{4})$", v.get("Release Date") or "")
    return int(m.group(1)) if m else None


def plain(title):
    return re.sub(r"[^a-z0-9 ]", "", str(title or "").lower()).strip()


def baseline(vega, films):
    """vega row -> film id: same plain title, year ±1, exactly one candidate."""
    index = {}
    for f in films:
        index.setdefault(plain(f["title"]), []).append(f)
    out = {}
    for row, v in enumerate(vega, start=1):
        y = vega_year(v)
        found = [f for f in index.get(plain(v.get("Title")), [])
                 if y is not None and f["year"] is not None and abs(f["year"] - y) <= 1]
        if len(found) == 1:
            out[row] = found[0]["id"]
    return out


def load(binary, db, sources):
    for source in sources:
        args = [binary, "--db", db, "etl"] + (["--source", source] if source else [])
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def landed(db, namespace):
    """vega row -> the `namespace` id of the movie its record became (when it has one)."""
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT s.source_row, i.external_id FROM movie_sources AS s "
        "JOIN movie_ids AS i ON i.MovieID = s.MovieID AND i.namespace = ? "
        "WHERE s.provider = 'vega'", (namespace,))
    out = {row: int(ext) for row, ext in rows}
    con.close()
    return out


def score(labels, predicted):
    tp = sum(1 for r, gold in labels.items() if predicted.get(r) == gold)
    fp = sum(1 for r, gold in labels.items() if r in predicted and predicted[r] != gold)
    fn = len(labels) - tp
    p = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    return p, rec, tp, fp, fn


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/movierec"
    vega = json.load(open(VEGA))
    tmdb = []
    with open(TMDB, newline="") as f:
        for r in csv.DictReader(f):
            tmdb.append({"id": int(r["id"]), "title": r["title"], "original": r["original_title"],
                         "year": year(r["release_date"]),
                         "budget": int(float(r["budget"] or 0)), "revenue": int(float(r["revenue"] or 0))})
    labels = money_labels(vega, tmdb)
    links = {}
    with open(f"{ML}/links.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["tmdbId"]:
                links[int(r["tmdbId"])] = int(r["movieId"])
    ml_films = []
    with open(f"{ML}/movies.csv", newline="") as f:
        for r in csv.DictReader(f):
            m = re.match(r"^(.*?)\s*\((\d{4})\)\s*$", r["title"])
            title, y = (m.group(1), int(m.group(2))) if m else (r["title"], None)
            ml_films.append({"id": int(r["movieId"]), "title": title, "year": y})
    ml_ids = {f["id"] for f in ml_films}
    ml_labels = {row: links[t] for row, t in labels.items() if t in links and links[t] in ml_ids}

    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "tmdb.db"), os.path.join(tmp, "ml.db")
        load(binary, a, [None, TMDB])
        load(binary, b, [None, f"movielens:{ML}"])
        got_tmdb, got_ml = landed(a, "tmdb"), landed(b, "movielens")

    print(f"labelled sample: {len(labels)} of {len(vega)} vega records carry a TMDB label "
          f"(budget = Production Budget, revenue within 1 % of Worldwide Gross, year ±1, no other film within 5 %, coincidences read and dropped); "
          f"{len(ml_labels)} of them a MovieLens label through links.csv\n")
    print("| pair | resolver | precision | recall | matched | false | missed |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, gold, got, films in [("vega ↔ TMDB 5000", labels, got_tmdb, tmdb),
                                   ("vega ↔ ml-latest-small", ml_labels, got_ml, ml_films)]:
        for resolver, predicted in [("movierec", got), ("exact title + year ±1", baseline(vega, films))]:
            p, r, tp, fp, fn = score(gold, predicted)
            print(f"| {name} | {resolver} | {p:.4f} | {r:.4f} | {tp} | {fp} | {fn} |")
    print()
    titles = {t["id"]: f'{t["title"]} ({t["year"]})' for t in tmdb}
    for name, gold, got, names in [("TMDB", labels, got_tmdb, titles),
                                   ("MovieLens", ml_labels, got_ml,
                                    {f["id"]: f'{f["title"]} ({f["year"]})' for f in ml_films})]:
        for row, want in sorted(gold.items()):
            if got.get(row) != want:
                v = vega[row - 1]
                other = names.get(got[row], got[row]) if row in got else "nothing"
                print(f"{name} row {row}: {v['Title']} ({v.get('Release Date')}) "
                      f"is {names.get(want, want)}, merged with {other}")


if __name__ == "__main__":
    main()
