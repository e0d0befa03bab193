"""Ship the top-level templates/, migrations/, forms/, calendars/ and processes/ inside the wheel.

The project keeps them at the top of the repository; a wheel has only
packages, so the build step copies them into ``bpm/_bundled``, where
``bpm.resources.shipped`` finds them. An editable install reads the checkout.
Everything else about the build is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "migrations", "forms", "calendars", "processes")  # as bpm.resources.SHIPPED


class BuildWithShippedFolders(build_py):
    """``build_py`` that also copies the shipped folders into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in SHIPPED:
            target = Path(self.build_lib) / "bpm" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithShippedFolders})
