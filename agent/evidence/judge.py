"""The model-backed contradiction judge (implements tools.literature.contradiction's protocol).

Its reason is shown to the physician, so the answer passes the judge hook of the document
checker (agent.documents.verify.ground_judgement) before it can raise a flag.
"""

from __future__ import annotations

import json
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agent.documents.verify import ground_judgement
from agent.untrusted import data_block
from db.models import Article, ClinicalProtocol
from prompts.loader import load_prompt
from tools.literature.contradiction import Judgement, protocol_ref

_JSON = re.compile(r"\{.*\}", re.DOTALL)


def _data(protocol: ClinicalProtocol, article: Article) -> str:
    # JSON lines with '<' escaped: no text from outside can close the block or pose as rules.
    rows = [
        {
            "ref": protocol_ref(protocol),
            "kind": "PROTOCOL",
            "title": protocol.title,
            "condition": protocol.condition,
            "recommendation": protocol.summary or "",
        },
        {
            "ref": article.ref,
            "kind": "ARTICLE",
            "title": article.title,
            "design": article.grade.label
            if hasattr(article.grade, "label")
            else str(article.grade),
            "abstract": article.abstract,
        },
    ]
    return data_block(rows)


class ModelContradictionJudge:
    def __init__(self, model: BaseChatModel) -> None:
        self.model = model

    def judge(self, *, protocol: ClinicalProtocol, article: Article) -> Judgement | None:
        try:
            reply = self.model.invoke(
                [
                    SystemMessage(load_prompt("contradiction")),
                    HumanMessage(_data(protocol, article)),
                ]
            )
        except Exception:  # a model outage leaves the match unjudged, never breaks ingest
            return None
        text = reply.content if isinstance(reply.content, str) else str(reply.content)
        found = _JSON.search(text)
        if not found:
            return None
        try:
            answer = json.loads(found.group(0))
        except json.JSONDecodeError:
            return None
        if not isinstance(answer, dict) or not isinstance(answer.get("contradicts"), bool):
            return None
        judgement = Judgement(
            contradicts=answer["contradicts"], reason=str(answer.get("reason", ""))
        )
        return ground_judgement(judgement, protocol=protocol, article=article)
