"""Writes sentences.jsonl: 240 short English sentences on four topics (animals, weather,
cooking, sport), 60 each, labelled by topic, for the `sentences` text probe set.

The sentences are composed from hand-written parts by a seeded generator, so the file is
reproducible: python3 probes/data/make_sentences.py
"""
import json
import os
import random

TOPICS = {
    "animals": {
        "subjects": ["the old dog", "a young fox", "the grey cat", "a small rabbit", "the brown bear", "an owl",
                     "the horse", "a herd of deer", "the wolf", "a pair of swans", "the mouse", "a tired lion"],
        "verbs": ["sleeps", "hunts", "hides", "runs", "waits", "eats", "rests", "watches", "drinks", "plays"],
        "places": ["in the barn", "under the tree", "near the river", "in the tall grass", "by the fence",
                   "at the edge of the forest", "in its den", "on the hill", "beside the pond", "in the meadow"],
        "extras": ["after a long chase", "while the pups play", "as the herd moves on", "before it hunts again",
                   "while its fur dries", "as birds call overhead"],
    },
    "weather": {
        "subjects": ["the cold wind", "heavy rain", "a thick fog", "the morning frost", "a summer storm", "light snow",
                     "the warm sun", "a grey cloud", "thunder", "the evening mist", "a strong gale", "hail"],
        "verbs": ["falls", "blows", "settles", "clears", "spreads", "returns", "lingers", "moves", "builds", "fades"],
        "places": ["over the city", "across the valley", "along the coast", "on the mountains", "over the fields",
                   "through the streets", "above the harbour", "across the plains", "over the lake", "in the north"],
        "extras": ["before dawn", "by the afternoon", "for most of the week", "until late tonight",
                   "as the temperature drops", "after a dry spell"],
    },
    "cooking": {
        "subjects": ["the chef", "my grandmother", "the baker", "a young cook", "the kitchen staff", "my brother",
                     "the head chef", "a friend", "the caterer", "our neighbour", "the student", "the pastry cook"],
        "verbs": ["stirs the soup", "bakes the bread", "chops the onions", "roasts the vegetables", "whisks the eggs",
                  "slices the tomatoes", "seasons the stew", "kneads the dough", "fries the fish", "grates the cheese"],
        "places": ["in the kitchen", "at the stove", "in the oven", "on the wooden board", "in a heavy pan",
                   "at the counter", "over a low flame", "in the bakery", "by the sink", "in a large bowl"],
        "extras": ["for the dinner guests", "with fresh herbs", "before the sauce thickens", "with a pinch of salt",
                   "while the water boils", "until it turns golden"],
    },
    "sport": {
        "subjects": ["the striker", "the home team", "a young sprinter", "the goalkeeper", "the captain", "the cyclist",
                     "the tennis player", "the swimmer", "the coach", "the runner", "the visiting side", "the boxer"],
        "verbs": ["scores", "trains", "wins the match", "loses the final", "sets a record", "defends", "attacks",
                  "celebrates", "prepares", "recovers"],
        "places": ["in the stadium", "on the track", "at the final whistle", "in the second half", "on the court",
                   "in the pool", "at the finish line", "in extra time", "on the pitch", "in the ring"],
        "extras": ["in front of a full crowd", "after a long season", "despite an early injury", "with one minute left",
                   "for the first time this year", "as the fans cheer"],
    },
}


def sentence(parts, rng):
    subject, verb, place = rng.choice(parts["subjects"]), rng.choice(parts["verbs"]), rng.choice(parts["places"])
    form = rng.randrange(4)
    if form == 0:
        text = f"{subject} {verb} {place}."
    elif form == 1:
        text = f"{subject} {verb} {place} {rng.choice(parts['extras'])}."
    elif form == 2:
        text = f"{place}, {subject} {verb}."
    else:
        text = f"{subject} {verb} {rng.choice(parts['extras'])}."
    return text[0].upper() + text[1:]


def main():
    rng = random.Random(2024)
    rows = []
    for topic, parts in TOPICS.items():
        seen = set()
        while len(seen) < 60:
            text = sentence(parts, rng)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "label": topic})
    rng.shuffle(rows)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sentences.jsonl"), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
