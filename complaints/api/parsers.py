"""The API's JSON parser: a body nested past Python's recursion limit is malformed JSON (400),
not a server error."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("Malformed JSON: the body is nested too deeply.") from None
