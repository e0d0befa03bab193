"""Jexl expressions in node data: ``{{ ... }}`` templates evaluated in a sandbox."""

from bpm.engine.expressions.compiler import CompiledExpression, compile_expression
from bpm.engine.expressions.template import Template, compile_template, iter_expressions
from bpm.engine.expressions.transform_engine import JexlTransformEngine, TransformEngine
from bpm.engine.expressions.transforms import TRANSFORMS

__all__ = ["TRANSFORMS", "CompiledExpression", "JexlTransformEngine", "Template",
           "TransformEngine", "compile_expression", "compile_template", "iter_expressions"]
