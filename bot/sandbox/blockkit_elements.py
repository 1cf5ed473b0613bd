"""Checks for Block Kit composition objects and elements, used by `blockkit`.

Use it through `bot.sandbox.blockkit`; this module holds the `Checker` that walks one surface
(a message or a view) and collects Slack-style error strings such as
``[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]``.
Limits follow Slack's Block Kit reference.
"""

from typing import Any

TEXT_TYPES = ("plain_text", "mrkdwn")
BUTTON_STYLES = ("primary", "danger")
SELECT_TYPES = frozenset(
    {"static_select", "multi_static_select", "external_select", "multi_external_select"}
)
PICKER_TYPES = frozenset(
    {
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
    }
)
INPUT_ONLY_TYPES = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
ACTIONS_TYPES = frozenset({"button", "overflow"} | SELECT_TYPES | PICKER_TYPES)
ACCESSORY_TYPES = ACTIONS_TYPES | {"image"}
INPUT_ELEMENT_TYPES = SELECT_TYPES | PICKER_TYPES | INPUT_ONLY_TYPES


class Checker:
    """Collects errors and the ids seen on one surface (ids must be unique per surface)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def err(self, ptr: str, msg: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{ptr}]")

    def is_obj(self, value: Any, ptr: str) -> bool:
        if isinstance(value, dict):
            return True
        self.err(ptr, "must provide an object")
        return False

    def string(
        self, obj: dict[str, Any], key: str, ptr: str, *, max_len: int, required: bool = False
    ) -> str | None:
        """Checks an optional (or required) string field; returns it when valid."""
        value = obj.get(key)
        here = f"{ptr}/{key}"
        if value is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return None
        if not isinstance(value, str):
            self.err(here, "must provide a string")
            return None
        if required and not value:
            self.err(here, "must be more than 0 characters")
        if len(value) > max_len:
            self.err(here, f"must be less than {max_len + 1} characters")
        return value

    def integer(
        self, obj: dict[str, Any], key: str, ptr: str, *, low: int, high: int
    ) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.err(f"{ptr}/{key}", "must provide an integer")
            return None
        if not low <= value <= high:
            self.err(f"{ptr}/{key}", f"must be between {low} and {high}")
        return value

    def items(
        self,
        obj: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_items: int,
        min_items: int = 1,
        required: bool = True,
    ) -> list[Any]:
        value = obj.get(key)
        if value is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return []
        if not isinstance(value, list):
            self.err(f"{ptr}/{key}", "must provide an array")
            return []
        if len(value) > max_items:
            self.err(f"{ptr}/{key}", f"no more than {max_items} items allowed")
        if len(value) < min_items:
            self.err(f"{ptr}/{key}", f"must contain at least {min_items} items")
        return value

    def text(
        self,
        obj: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_len: int,
        plain: bool = False,
        required: bool = True,
    ) -> None:
        """Checks a text object at obj[key]: type, non-empty text, length."""
        value = obj.get(key)
        if value is None:
            if required:
                self.err(ptr, f"missing required field: {key}")
            return
        self.text_object(value, f"{ptr}/{key}", max_len=max_len, plain=plain)

    def text_object(self, value: Any, ptr: str, *, max_len: int, plain: bool = False) -> None:
        if not self.is_obj(value, ptr):
            return
        kind = value.get("type")
        if kind not in TEXT_TYPES:
            self.err(f"{ptr}/type", "must be one of: plain_text, mrkdwn")
        elif plain and kind != "plain_text":
            self.err(f"{ptr}/type", "must be plain_text")
        self.string(value, "text", ptr, max_len=max_len, required=True)
        for flag in ("emoji", "verbatim"):
            if flag in value and not isinstance(value[flag], bool):
                self.err(f"{ptr}/{flag}", "must provide a boolean")

    def block_id(self, block: dict[str, Any], ptr: str) -> None:
        block_id = self.string(block, "block_id", ptr, max_len=255)
        if block_id is None:
            return
        if block_id in self.block_ids:
            self.err(f"{ptr}/block_id", f"duplicate block_id: {block_id}")
        self.block_ids.add(block_id)

    def action_id(self, element: dict[str, Any], ptr: str) -> None:
        action_id = self.string(element, "action_id", ptr, max_len=255)
        if action_id is None:
            return
        if action_id in self.action_ids:
            self.err(f"{ptr}/action_id", f"duplicate action_id: {action_id}")
        self.action_ids.add(action_id)

    def element(self, element: Any, ptr: str, *, allowed: frozenset[str]) -> None:
        """Checks one element (button, select, input...) allowed in this position."""
        if not self.is_obj(element, ptr):
            return
        kind = element.get("type")
        if kind not in allowed:
            self.err(f"{ptr}/type", f"unsupported type: {kind}")
            return
        if kind == "image":
            self.image(element, ptr)
            return
        self.action_id(element, ptr)
        if kind == "button":
            self.button(element, ptr)
        elif kind in SELECT_TYPES or kind == "overflow":
            self.select(element, ptr, overflow=kind == "overflow")
        elif kind == "plain_text_input":
            self.plain_text_input(element, ptr)
        elif kind in ("radio_buttons", "checkboxes"):
            self.choices(element, ptr, multiple=kind == "checkboxes")
        else:
            self.text(element, "placeholder", ptr, max_len=150, plain=True, required=False)
        if "confirm" in element:
            self.confirm(element["confirm"], f"{ptr}/confirm")

    def button(self, button: dict[str, Any], ptr: str) -> None:
        self.text(button, "text", ptr, max_len=75, plain=True)
        self.string(button, "value", ptr, max_len=2000)
        self.string(button, "url", ptr, max_len=3000)
        self.string(button, "accessibility_label", ptr, max_len=75)
        style = button.get("style")
        if style is not None and style not in BUTTON_STYLES:
            self.err(f"{ptr}/style", "must be one of: primary, danger")

    def select(self, select: dict[str, Any], ptr: str, *, overflow: bool = False) -> None:
        if not overflow:
            self.text(select, "placeholder", ptr, max_len=150, plain=True, required=False)
        if select.get("type") in ("external_select", "multi_external_select"):
            return
        has_groups = "option_groups" in select and not overflow
        values: list[str] = []
        if has_groups:
            groups = self.items(select, "option_groups", ptr, max_items=100)
            for g, group in enumerate(groups):
                gptr = f"{ptr}/option_groups/{g}"
                if self.is_obj(group, gptr):
                    self.text(group, "label", gptr, max_len=75, plain=True)
                    values += self.options(group, gptr, max_items=100)
        else:
            values = self.options(select, ptr, max_items=5 if overflow else 100)
        initial = select.get("initial_option")
        if isinstance(initial, dict) and initial.get("value") not in values:
            self.err(f"{ptr}/initial_option", "must match one of the provided options")

    def choices(self, element: dict[str, Any], ptr: str, *, multiple: bool) -> None:
        """Radio buttons and checkboxes: 1 to 10 options (their text may be mrkdwn), and the
        initially chosen ones among them."""
        values = self.options(element, ptr, max_items=10, plain=False)
        key = "initial_options" if multiple else "initial_option"
        initial = element.get(key)
        if initial is None:
            return
        chosen = initial if multiple and isinstance(initial, list) else [initial]
        for c, option in enumerate(chosen):
            if not isinstance(option, dict) or option.get("value") not in values:
                where = f"{ptr}/{key}/{c}" if multiple else f"{ptr}/{key}"
                self.err(where, "must match one of the provided options")

    def options(self, holder: dict[str, Any], ptr: str, *, max_items: int,
                plain: bool = True) -> list[str]:
        values: list[str] = []
        for o, option in enumerate(self.items(holder, "options", ptr, max_items=max_items)):
            optr = f"{ptr}/options/{o}"
            if not self.is_obj(option, optr):
                continue
            self.text(option, "text", optr, max_len=75, plain=plain)
            self.text(option, "description", optr, max_len=75, plain=plain, required=False)
            value = self.string(option, "value", optr, max_len=150, required=True)
            if value is not None:
                values.append(value)
        return values

    def plain_text_input(self, element: dict[str, Any], ptr: str) -> None:
        self.text(element, "placeholder", ptr, max_len=150, plain=True, required=False)
        self.string(element, "initial_value", ptr, max_len=3000)
        low = self.integer(element, "min_length", ptr, low=0, high=3000)
        high = self.integer(element, "max_length", ptr, low=1, high=3000)
        if low is not None and high is not None and low > high:
            self.err(f"{ptr}/min_length", "must be less than or equal to max_length")
        if "multiline" in element and not isinstance(element["multiline"], bool):
            self.err(f"{ptr}/multiline", "must provide a boolean")

    def image(self, image: dict[str, Any], ptr: str) -> None:
        if "slack_file" not in image:
            self.string(image, "image_url", ptr, max_len=3000, required=True)
        self.string(image, "alt_text", ptr, max_len=2000, required=True)

    def confirm(self, confirm: Any, ptr: str) -> None:
        if not self.is_obj(confirm, ptr):
            return
        self.text(confirm, "title", ptr, max_len=100, plain=True)
        self.text(confirm, "text", ptr, max_len=300)
        self.text(confirm, "confirm", ptr, max_len=30, plain=True)
        self.text(confirm, "deny", ptr, max_len=30, plain=True)
