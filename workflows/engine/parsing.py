"""SpiffWorkflow's camunda parser, adjusted to our dialect and fed only safely parsed XML."""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from workflows.engine.returns import back_edges

DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20230324/MODEL/")
CAMUNDA = "{%s}" % CAMUNDA_MODEL_NS
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


class FormUserTaskParser(UserTaskParser):
    """Read ``camunda:formData`` whether or not the task names a ``formKey``."""

    def get_form(self):
        if self.node.get(CAMUNDA + "formKey") is None:
            self.node.set(CAMUNDA + "formKey", self.bpmn_id)
        return super().get_form()


class ModelParser(CamundaParser):
    """Also marks each process spec with its back-edges (:mod:`workflows.engine.returns`), so a case
    sent back to an earlier task can say why."""

    OVERRIDE_PARSER_CLASSES = CamundaParser.OVERRIDE_PARSER_CLASSES | {
        full_tag("userTask"): (FormUserTaskParser, UserTask),
    }

    def get_spec(self, process_id, required=True):
        return self._marked(super().get_spec(process_id, required))

    def get_subprocess_specs(self, name, specs=None, require_call_activity_specs=True):
        found = super().get_subprocess_specs(name, specs, require_call_activity_specs)
        for spec in found.values():
            self._marked(spec)
        return found

    def _marked(self, spec):
        if spec is not None and not hasattr(spec, "back_edges"):
            process = self.process_parsers.get(spec.name)
            spec.back_edges = back_edges(process.node) if process is not None else {}
        return spec


def is_dmn(root: etree._Element) -> bool:
    return etree.QName(root).namespace in DMN_NAMESPACES


def build_parser(roots: dict[str, etree._Element]) -> ModelParser:
    """A parser holding every file of a model set (already parsed by :mod:`workflows.xmlsafe`)."""
    parser = ModelParser()
    for filename, root in sorted(roots.items()):
        if is_dmn(root):
            parser.add_dmn_xml(root, filename=filename)
        else:
            parser.add_bpmn_xml(root, filename=filename)
    return parser
