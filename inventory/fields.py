"""Model fields: secrets encrypted at rest."""

from __future__ import annotations

from django.db import models

from inventory import crypto

REDACTED = "********"
"""What the change log, admin and API show in place of a secret that is set."""


class EncryptedTextField(models.TextField):
    """A text secret: plaintext on the model instance, a Fernet token in the database column.

    Lookups on the value are meaningless (every encryption differs) and not supported.
    The change log and admin never show the value (see :func:`redacted`).
    """

    secret = True
    description = "Text encrypted at rest (Fernet)"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return crypto.encrypt(value)

    def value_to_string(self, obj):
        return redacted(self.value_from_object(obj))


def redacted(value: str | None) -> str:
    """The redaction marker for a secret: ``********`` when set, ``""`` when empty."""
    return REDACTED if value else ""


class ChoiceListField(models.CharField):
    """A set of values from a ChoiceSet, a sorted ``list[str]`` in Python, ``"a,b"`` in the column.

    The column form is the sorted comma-joined list the collector labels use (contract 1).
    Filter on one member with :func:`choice_list_contains`.
    """

    description = "Sorted comma-separated list of choices"

    def __init__(self, *args, choice_set=None, **kwargs):
        self.choice_set = choice_set
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["choice_set"] = self.choice_set
        if kwargs.get("default") is list:
            del kwargs["default"]
        if kwargs.get("max_length") == 200:
            del kwargs["max_length"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        return name, path, args, kwargs

    @staticmethod
    def _split(value) -> list[str]:
        if value is None:
            return []
        items = value.split(",") if isinstance(value, str) else list(value)
        return sorted({str(item).strip() for item in items if str(item).strip()})

    def from_db_value(self, value, expression, connection):
        return self._split(value)

    def to_python(self, value):
        return self._split(value)

    def get_prep_value(self, value):
        if value is None:
            return "" if not self.null else None
        return ",".join(self._split(value))

    def value_to_string(self, obj):
        return ",".join(self.value_from_object(obj))

    def validate(self, value, model_instance):
        from django.core.exceptions import ValidationError

        if not self.blank and not value:
            raise ValidationError(self.error_messages["blank"], code="blank")
        if self.choice_set is not None:
            allowed = self.choice_set.values()
            unknown = [item for item in value if item not in allowed]
            if unknown:
                raise ValidationError(
                    f"Unknown choice(s): {', '.join(unknown)}. Allowed: {', '.join(allowed)}.",
                    code="invalid_choice",
                )

    def run_validators(self, value):
        # Validators of CharField (max_length) apply to the joined column value.
        super().run_validators(",".join(value) if isinstance(value, list) else value)

    def formfield(self, **kwargs):
        from django import forms

        defaults = {
            "form_class": forms.TypedMultipleChoiceField,
            "choices": self.choice_set.CHOICES if self.choice_set else [],
            "required": not self.blank,
            "widget": forms.CheckboxSelectMultiple,
            "coerce": str,
            "label": self.verbose_name.capitalize(),
            "help_text": self.help_text,
        }
        defaults.update(kwargs)
        return forms.TypedMultipleChoiceField(
            **{k: v for k, v in defaults.items() if k not in {"form_class", "max_length", "empty_value"}}
        )


def choice_list_contains(field: str, value: str):
    """A Q matching rows whose ChoiceListField ``field`` holds ``value``."""
    from django.db.models import Q

    return (
        Q(**{field: value})
        | Q(**{f"{field}__startswith": f"{value},"})
        | Q(**{f"{field}__endswith": f",{value}"})
        | Q(**{f"{field}__contains": f",{value},"})
    )
