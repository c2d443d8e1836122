"""Errors services raise for bad input; views, API and CLI show their messages."""


class ValidationFailed(Exception):
    """Input refused as a whole; ``problems`` lists (field, Chinese message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("；".join(message for _, message in problems))

    @property
    def messages(self) -> list[str]:
        return [message for _, message in self.problems]
