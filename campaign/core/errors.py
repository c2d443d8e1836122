"""Errors services raise for bad input; views, API and CLI show their messages."""

STALE = "该记录刚被他人修改（或同时提交），未保存；请刷新查看最新状态后再操作。"
BUSY = "系统正忙（他人的保存尚未完成），本次未保存；请稍后重试。"


class ValidationFailed(Exception):
    """Input refused as a whole; ``problems`` lists (field, Chinese message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("；".join(message for _, message in problems))

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self.problems]


class Conflict(Exception):
    """The act was already done: another submission of it won (a double click, a retry, two
    people at once). Answered 409 with ``message``; nothing of this submission is kept."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
