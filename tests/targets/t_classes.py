"""Class construction (__init__, __new__, metaclass), properties, __call__, super()."""


class Registry(type):
    created = []

    def __new__(mcls, name, bases, namespace):
        cls = super().__new__(mcls, name, bases, namespace)
        mcls.created.append(name)
        return cls

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls.tag = name.lower()

    def __call__(cls, *args, **kwargs):
        instance = super().__call__(*args, **kwargs)
        instance.registered = True
        return instance


class Base:
    def __init__(self, value):
        self.value = value

    def describe(self):
        return "base:%s" % self.value

    @property
    def double(self):
        return self.value * 2

    @double.setter
    def double(self, new):
        self.value = new // 2


class Child(Base):
    def __init__(self, value, extra):
        super().__init__(value)
        self.extra = extra

    def describe(self):
        return "child:" + super().describe()


class GrandChild(Child):
    def describe(self):
        return "grand:" + super().describe()

    @classmethod
    def make(cls, value):
        return cls(value, extra=None)

    @staticmethod
    def helper(x):
        return x + 1


class Singleton:
    _instance = None

    def __new__(cls, *args):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self, name):
        self.name = name


class Adder:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        return x + self.n

    def __repr__(self):
        return "Adder(%d)" % self.n

    def __eq__(self, other):
        return isinstance(other, Adder) and other.n == self.n

    def __hash__(self):
        return hash(self.n)


def build_classes():
    class Plugin(metaclass=Registry):
        def run(self):
            return self.tag

    class Extra(Plugin):
        def run(self):
            return "extra-" + super().run()

    return Plugin, Extra


def main():
    out = []
    Plugin, Extra = build_classes()
    out.append(Extra().run())
    out.append(Plugin().registered)
    objs = [Base(1), Child(2, "x"), GrandChild.make(3)]
    for o in objs:
        out.append(o.describe())
        out.append(o.double)
        o.double = 10
    out.append(GrandChild.helper(4))
    out.append(Singleton("a") is Singleton("b"))
    add = Adder(5)
    out.append([add(i) for i in range(4)])
    out.append(repr(add))
    out.append(len({Adder(1), Adder(1), Adder(2)}))
    return out


if __name__ == "__main__":
    print(main())
