"""The one interaction loop of SMTPO, shared by GRPO rollouts (``grpo.py``) and interactive evaluation.

    episodes = run_episodes(samples, catalog, retriever, recommender, simulator, EpisodeSettings(turns=2))
    write_episode_log("predictions.episodes.jsonl", episodes)

For each sample, turns t = 1..T:

1. candidates: ``retriever.scored_candidates(context, replies so far, K)`` (the replies enter the semantic view of
   the context, see ``DualViewRetriever.scored_candidates``);
2. prompt: turn 1 is ``build_prompt(context, [], candidates, seed)``; a later turn *continues the chat*: the
   recommender's previous answer stays as an assistant message and a new user message carries the simulated
   reply and the new numbered candidates (``followup_message``). Continuing the chat is what makes a GRPO episode
   one token sequence (recommender turns scored, the rest masked: ``grpo.py``);
3. the recommender's batched generation (``Recommender``: list of chats -> list of texts), parsed with
   ``parse_answer``; the turn's ranking is ``to_ranking``: parsed numbers first, then the remaining candidates
   in retriever order (an unparseable answer gives exactly the retriever order and is counted by its status);
4. the simulator's reply to the turn's top-10 (``Simulator.feedback`` with ``Request(history, offered,
   held_out=targets)``: the targets go only to the leakage guard). Earlier turns of the episode are in its history
   as a recommender line naming the first ``HISTORY_TITLES`` offered titles (no item annotations: the recommender
   offering the target is not a leak, as in the guard's offered-items exemption) and the seeker's reply.
   No reply is generated after the last turn (nothing would read it).

The final ranking is the last turn's ranking: its parsed top-10, then the remaining candidates in retriever
order, so Recall@20 over K=20 candidates is defined. Every turn's new prompt messages, raw output, parse status,
candidate ids and scores, shown order and simulator reply go into the episode log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

from benchmark.io import write_jsonl
from benchmark.recommender.parse import PARSER_VERSION, parse_answer, to_ranking
from benchmark.recommender.prompt import K_ANSWER, build_prompt, candidate_lines, item_title, prompt_seed, shuffled
from benchmark.usersim.simulator import Request

HISTORY_TITLES = 3  # offered titles named in the simulator's history line for an earlier turn (the prompt's
#                     offered block lists all 10 of the current turn)


@runtime_checkable
class CandidateSource(Protocol):
    def scored_candidates(self, contexts: Sequence[Sequence[dict]], feedbacks=None, exclude=None, k=None,
                          catalog=None) -> list[tuple[list[str], list[float]]]:
        """(ids, scores) per query, best first (``DualViewRetriever.scored_candidates``)."""


@runtime_checkable
class Recommender(Protocol):
    def __call__(self, chats: list[list[dict]]) -> list[str]:
        """One generated text per chat (batched); chat i of every call belongs to episode i of the batch."""


@runtime_checkable
class Simulator(Protocol):
    def feedback(self, requests: Sequence[Request]) -> list[str]:
        """The simulated seeker's reply to each request's offered items (``UserSimulator.feedback``)."""


@dataclass
class EpisodeSettings:
    turns: int = 2  # T recommender turns per episode
    candidates: int = 20  # K items retrieved per turn
    seed: int = 0  # shuffles the shown candidate order per (seed, sample, turn): prompt_seed
    answer_k: int = K_ANSWER
    show_rank: bool = False  # candidate lines say their retriever rank (prompt.py; as the model was trained)


@dataclass
class TurnLog:
    turn: int
    prompt: list[dict]  # the messages added at this turn (turn 1: system + user; later: the follow-up user message)
    candidate_ids: list[str]  # retriever order
    candidate_scores: list[float]
    order: list[str]  # order[i] = item shown as number i + 1
    output: str  # the recommender's raw text
    status: str  # parse status (ok / partial / malformed / no_answer)
    flags: list[str]
    numbers: list[int]
    ranking: list[str]  # this turn's parsed top-k, then the remaining candidates in retriever order
    reply: str | None = None  # the simulator's reply to ranking[:answer_k] (None after the last turn)


@dataclass
class Episode:
    sample_id: str
    turns: list[TurnLog] = field(default_factory=list)
    chat: list[dict] = field(default_factory=list)  # the whole recommender conversation, final answer included

    @property
    def ranking(self) -> list[str]:
        return self.turns[-1].ranking if self.turns else []

    @property
    def replies(self) -> list[str]:
        return [t.reply for t in self.turns if t.reply is not None]

    def to_dict(self) -> dict:
        return {"sample_id": self.sample_id, "parser_version": PARSER_VERSION, "ranking": self.ranking,
                "turns": [asdict(t) for t in self.turns]}


def followup_message(reply: str, candidates: Sequence[dict], seed: int,
                     show_rank: bool = False) -> tuple[dict, list[str]]:
    """The user message of a later turn: the simulated reply and the new candidates, numbered in a seeded order."""
    order = shuffled([c["item_id"] for c in candidates], seed)
    n = min(K_ANSWER, len(order))
    lines = candidate_lines(order, candidates, show_rank)
    text = (f"The user replied: {reply or '(no reply)'}\n\nNew candidates:\n{lines}\n\n"
            f"Rank the candidates again: the {n} best numbers, best first, in <answer> </answer>.")
    return {"role": "user", "content": text}, order


def simulator_history(context: Sequence[dict], turns: Sequence[TurnLog], catalog) -> list[dict]:
    """The real context, then per finished turn a recommender line with the first offered titles and the reply."""
    history = [dict(t) for t in context]
    for t in turns:
        titles = ", ".join(item_title(catalog.by_id[i]) for i in t.ranking[:HISTORY_TITLES])
        history.append({"role": "recommender", "text": f"How about {titles}?", "items": []})
        history.append({"role": "seeker", "text": t.reply or "", "items": []})
    return history


def first_prompts(samples: Sequence[dict], catalog, retriever: CandidateSource,
                  settings: EpisodeSettings | None = None) -> list[tuple[list[dict], list[str]]]:
    """Turn 1's (chat, shown order) per sample, exactly as ``run_episodes`` builds it (GRPO's dataset prompts)."""
    s = settings or EpisodeSettings()
    found = retriever.scored_candidates([x["context"] for x in samples], None, None, s.candidates, catalog)
    return [build_prompt(x["context"], [], [catalog.by_id[i] for i in ids], prompt_seed(s.seed, x["sample_id"], 0),
                         show_rank=s.show_rank)
            for x, (ids, _) in zip(samples, found, strict=True)]


def run_episodes(samples: Sequence[dict], catalog, retriever: CandidateSource, recommender: Recommender,
                 simulator: Simulator | None, settings: EpisodeSettings | None = None,
                 exclude: Sequence[Sequence[str] | None] | None = None) -> list[Episode]:
    """Run one episode per sample (all in lockstep, batched per turn); ``simulator`` may be None only if T = 1."""
    s = settings or EpisodeSettings()
    if s.turns < 1:
        raise ValueError(f"episode turns must be >= 1, got {s.turns}")
    if simulator is None and s.turns > 1:
        raise ValueError("an episode of more than one turn needs a simulator")
    episodes = [Episode(x["sample_id"]) for x in samples]
    contexts = [x["context"] for x in samples]
    for turn in range(1, s.turns + 1):
        feedback = [ep.replies for ep in episodes]
        found = retriever.scored_candidates(contexts, feedback, exclude, s.candidates, catalog)
        chats, orders, added = [], [], []
        for x, ep, (ids, _) in zip(samples, episodes, found, strict=True):
            items = [catalog.by_id[i] for i in ids]
            seed = prompt_seed(s.seed, x["sample_id"], turn - 1)
            if turn == 1:
                new, order = build_prompt(x["context"], [], items, seed, show_rank=s.show_rank)
            else:
                message, order = followup_message(ep.turns[-1].reply, items, seed, s.show_rank)
                new = [{"role": "assistant", "content": ep.turns[-1].output}, message]
            ep.chat = ep.chat + new
            chats.append(ep.chat)
            orders.append(order)
            added.append(new if turn == 1 else new[1:])
        outputs = recommender(chats)
        for ep, (ids, scores), order, new, out in zip(episodes, found, orders, added, outputs, strict=True):
            parsed = parse_answer(out, len(order), s.answer_k)
            ep.turns.append(TurnLog(turn, new, ids, [float(v) for v in scores], order, out, parsed.status,
                                    parsed.flags, parsed.numbers, to_ranking(parsed, order, ids, s.answer_k)))
        if turn < s.turns:
            requests = [Request(simulator_history(x["context"], ep.turns[:-1], catalog),
                                [catalog.by_id[i] for i in ep.turns[-1].ranking[:s.answer_k]],
                                [catalog.by_id[t] for t in x.get("targets", []) if t in catalog])
                        for x, ep in zip(samples, episodes, strict=True)]
            for ep, reply in zip(episodes, simulator.feedback(requests), strict=True):
                ep.turns[-1].reply = reply
    for ep in episodes:
        ep.chat = ep.chat + [{"role": "assistant", "content": ep.turns[-1].output}]
    return episodes


def write_episode_log(path, episodes: Sequence[Episode]) -> None:
    """One JSON line per episode (atomic write), to sit beside the predictions file."""
    write_jsonl(path, [ep.to_dict() for ep in episodes])
