"""SpiffWorkflow's camunda parser, adjusted to our dialect and fed only safely parsed XML."""
from __future__ import annotations

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

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
    OVERRIDE_PARSER_CLASSES = CamundaParser.OVERRIDE_PARSER_CLASSES | {
        full_tag("userTask"): (FormUserTaskParser, UserTask),
    }


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
