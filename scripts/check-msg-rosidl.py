#!/usr/bin/python3
"""Checks msg/*.msg the way `colcon build` will, without ROS 2.

Converts every msg/*.msg to IDL with rosidl_adapter and parses it with rosidl_parser (the
tools rosidl_generate_interfaces runs), then checks that the packages the fields come from are
listed in CMakeLists.txt's DEPENDENCIES and in package.xml, and that every .msg file is listed
in SYNCBAG_INTERFACES.

    python3 scripts/check-msg-rosidl.py            # skips (exit 0) when rosidl is not installed
    python3 scripts/check-msg-rosidl.py --require  # fails instead

rosidl's Python modules come with Debian's python3-rosidl (plus python3-empy, python3-lark):
    apt-get install -y --no-install-recommends python3-rosidl python3-empy python3-lark
"""
import pathlib
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = 'syncbag'


def main() -> int:
    require = '--require' in sys.argv[1:]
    try:
        from rosidl_adapter.msg import convert_msg_to_idl
        from rosidl_parser.definition import AbstractNestedType, IdlLocator, Message, NamespacedType
        from rosidl_parser.parser import parse_idl_file
    except ImportError as error:
        print(f'check-msg-rosidl: SKIPPED, rosidl is not installed ({error})')
        return 1 if require else 0

    cmake = (ROOT / 'CMakeLists.txt').read_text()
    listed = set(re.findall(r'msg/\w+\.msg', re.search(r'set\(SYNCBAG_INTERFACES(.*?)\)', cmake, re.S).group(1)))
    dependencies = set(re.search(r'DEPENDENCIES([^)]*)\)', cmake).group(1).split())
    xml_depends = {e.text for e in ET.parse(ROOT / 'package.xml').getroot() if e.tag in ('depend', 'build_depend')}

    problems = []
    msgs = sorted((ROOT / 'msg').glob('*.msg'))
    used = set()
    with tempfile.TemporaryDirectory() as out:
        out_dir = pathlib.Path(out)
        for msg in msgs:
            rel = msg.relative_to(ROOT)
            before = len(problems)
            if str(rel) not in listed:
                problems.append(f'{rel} is not listed in SYNCBAG_INTERFACES (CMakeLists.txt)')
            try:
                idl = convert_msg_to_idl(ROOT, PACKAGE, rel, out_dir)
                parsed = parse_idl_file(IdlLocator(out_dir, idl.relative_to(out_dir)))
            except Exception as error:  # rosidl raises many types; each is a finding here
                problems.append(f'{rel}: rosidl refuses it: {error}')
                continue
            for message in parsed.content.get_elements_of_type(Message):
                for member in message.structure.members:
                    t = member.type
                    if isinstance(t, AbstractNestedType):
                        t = t.value_type
                    if isinstance(t, NamespacedType):
                        pkg = t.namespaces[0]
                        used.add(pkg)
                        if pkg == PACKAGE and not (ROOT / 'msg' / f'{t.name}.msg').is_file():
                            problems.append(f'{rel}: field {member.name} refers to {PACKAGE}/{t.name}, which has no msg/{t.name}.msg')
            if len(problems) == before:
                print(f'check-msg-rosidl: {rel} ok')
    for pkg in sorted(used - {PACKAGE}):
        if pkg not in dependencies:
            problems.append(f'fields use {pkg} but CMakeLists.txt rosidl_generate_interfaces DEPENDENCIES lacks it')
        if pkg not in xml_depends:
            problems.append(f'fields use {pkg} but package.xml has no <depend> on it')
    for problem in problems:
        print(f'check-msg-rosidl: {problem}', file=sys.stderr)
    if not problems:
        print(f'check-msg-rosidl: {len(msgs)} interfaces ok; they use {", ".join(sorted(used))}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
