package io.homa.driver;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.agrona.concurrent.status.CountersReader;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.ObjectName;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The driver's counters outside the CnC: a JMX MBean ({@code homa.jmx.enabled}, on by default) whose attributes
 * are the CnC counters by label, and an opt-in Prometheus text endpoint ({@code homa.prometheus.port}) served by
 * the JDK's own HTTP server at {@code /metrics}. Both read the live CnC; closing them (before the driver unmaps it)
 * waits for a read in progress.
 */
final class CounterExports implements AutoCloseable
{
    /** The MBean's domain and type; its {@code dir} key is the driver directory, quoted. */
    static final String OBJECT_NAME_PREFIX = "io.homa:type=MediaDriver,dir=";

    private final CountersReader reader;
    private final Object lock = new Object();
    private boolean isClosed;
    private ObjectName objectName;
    private HttpServer http;

    private CounterExports(final CountersReader reader)
    {
        this.reader = reader;
    }

    /**
     * @param reader         the CnC's counters.
     * @param dir            the driver directory (names the MBean).
     * @param jmx            register the MBean.
     * @param prometheusHost address of the Prometheus endpoint.
     * @param prometheusPort its port, 0 for any free one, negative for none.
     * @return the running exports.
     */
    static CounterExports start(
        final CountersReader reader,
        final String dir,
        final boolean jmx,
        final String prometheusHost,
        final int prometheusPort)
    {
        final CounterExports exports = new CounterExports(reader);
        try
        {
            if (jmx)
            {
                exports.registerMBean(dir);
            }
            if (prometheusPort >= 0)
            {
                exports.startHttp(prometheusHost, prometheusPort);
            }
        }
        catch (final RuntimeException ex)
        {
            exports.close();
            throw ex;
        }
        return exports;
    }

    /**
     * @return the MBean's name, or null if none is registered.
     */
    ObjectName objectName()
    {
        return objectName;
    }

    /**
     * @return the Prometheus endpoint's port, or -1 if it is off.
     */
    int prometheusPort()
    {
        return null == http ? -1 : http.getAddress().getPort();
    }

    private void registerMBean(final String dir)
    {
        try
        {
            final ObjectName name = new ObjectName(OBJECT_NAME_PREFIX + ObjectName.quote(dir));
            ManagementFactory.getPlatformMBeanServer().registerMBean(new CountersMBean(), name);
            objectName = name;
        }
        catch (final Exception ex)
        {
            // Another driver of this JVM still holds the name (its directory was taken over): it keeps it.
            DriverLog.warning("counters not exported over JMX (" + Configuration.JMX_ENABLED_PROP_NAME + "): " + ex);
        }
    }

    private void startHttp(final String host, final int port)
    {
        final HttpServer server;
        try
        {
            server = HttpServer.create(new InetSocketAddress(host, port), 8);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException(Configuration.PROMETHEUS_PORT_PROP_NAME + "=" + port +
                " is refused: cannot listen on " + host + ":" + port + " (" + ex.getMessage() + ")", ex);
        }
        server.createContext("/metrics", this::serveMetrics);
        // The server's dispatcher thread takes the daemon flag of the thread that starts it: a driver never keeps
        // its JVM alive through its metrics endpoint.
        final AtomicReference<RuntimeException> failure = new AtomicReference<>();
        final Thread starter = new Thread(() ->
        {
            try
            {
                server.start();
            }
            catch (final RuntimeException ex)
            {
                failure.set(ex);
            }
        }, "homa-prometheus-start");
        starter.setDaemon(true);
        starter.start();
        try
        {
            starter.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        if (null != failure.get())
        {
            server.stop(0);
            throw failure.get();
        }
        http = server;
    }

    private void serveMetrics(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            final String text = prometheusText();
            if (null == text)
            {
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            final byte[] body = text.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody())
            {
                out.write(body);
            }
        }
    }

    /**
     * @return the counters, or null once closed.
     */
    List<CounterSnapshot.Counter> snapshot()
    {
        synchronized (lock)
        {
            return isClosed ? null : CounterSnapshot.read(reader);
        }
    }

    /**
     * The counters in Prometheus' text format (0.0.4): {@code homa_<name>}, with a client's or socket's counters
     * as one family labelled by whose they are, e.g.
     * {@code homa_socket_messages_received{socket="3",port="32768",client="42"} 17}.
     *
     * @return the text, or null once closed.
     */
    String prometheusText()
    {
        final List<CounterSnapshot.Counter> counters = snapshot();
        if (null == counters)
        {
            return null;
        }
        final Map<String, StringBuilder> families = new LinkedHashMap<>();
        for (final CounterSnapshot.Counter counter : counters)
        {
            final String name = io.homa.driver.status.ScopedCounterLabels.name(counter.label());
            final String metric = "homa_" + name.replaceAll("[^a-zA-Z0-9_]", "_");
            final StringBuilder family = families.computeIfAbsent(metric, (key) ->
            {
                final StringBuilder header = new StringBuilder();
                final String help = CounterSnapshot.description(name);
                if (null != help)
                {
                    header.append("# HELP ").append(metric).append(' ')
                        .append(help.replace("\\", "\\\\").replace("\n", " ")).append('\n');
                }
                header.append("# TYPE ").append(metric).append(' ')
                    .append(CounterSnapshot.isGauge(name) ? "gauge" : "counter").append('\n');
                return header;
            });
            family.append(metric);
            final Map<String, String> scope = io.homa.driver.status.ScopedCounterLabels.scope(counter.label());
            if (!scope.isEmpty())
            {
                family.append('{');
                boolean first = true;
                for (final Map.Entry<String, String> entry : scope.entrySet())
                {
                    family.append(first ? "" : ",").append(entry.getKey()).append("=\"")
                        .append(entry.getValue().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
                    first = false;
                }
                family.append('}');
            }
            family.append(' ').append(counter.value()).append('\n');
        }
        final StringBuilder text = new StringBuilder();
        families.values().forEach(text::append);
        return text.toString();
    }

    /**
     * Unregisters the MBean and stops the endpoint; after this no read touches the CnC.
     */
    public void close()
    {
        synchronized (lock)
        {
            isClosed = true;
        }
        if (null != objectName)
        {
            try
            {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            }
            catch (final Exception ex)
            {
                // Gone already (someone unregistered it): nothing to undo.
            }
        }
        if (null != http)
        {
            http.stop(0);
        }
    }

    /**
     * Attributes: one per CnC counter, named by its label, a {@code long}; read-only.
     */
    private final class CountersMBean implements DynamicMBean
    {
        @Override
        public Object getAttribute(final String attribute) throws AttributeNotFoundException
        {
            final List<CounterSnapshot.Counter> counters = snapshot();
            if (null != counters)
            {
                for (final CounterSnapshot.Counter counter : counters)
                {
                    if (counter.label().equals(attribute))
                    {
                        return counter.value();
                    }
                }
            }
            throw new AttributeNotFoundException("no counter " + attribute);
        }

        @Override
        public void setAttribute(final Attribute attribute) throws AttributeNotFoundException
        {
            throw new AttributeNotFoundException("counters are read-only: " + attribute.getName());
        }

        @Override
        public AttributeList getAttributes(final String[] attributes)
        {
            final AttributeList list = new AttributeList();
            final List<CounterSnapshot.Counter> counters = snapshot();
            if (null == counters)
            {
                return list;
            }
            final Map<String, Long> byLabel = new LinkedHashMap<>();
            counters.forEach((counter) -> byLabel.put(counter.label(), counter.value()));
            for (final String attribute : attributes)
            {
                final Long value = byLabel.get(attribute);
                if (null != value)
                {
                    list.add(new Attribute(attribute, value));
                }
            }
            return list;
        }

        @Override
        public AttributeList setAttributes(final AttributeList attributes)
        {
            return new AttributeList();
        }

        @Override
        public Object invoke(final String actionName, final Object[] params, final String[] signature)
        {
            throw new UnsupportedOperationException("no operations: " + actionName);
        }

        @Override
        public MBeanInfo getMBeanInfo()
        {
            final List<CounterSnapshot.Counter> counters = snapshot();
            final List<CounterSnapshot.Counter> known = null == counters ? List.of() : counters;
            final MBeanAttributeInfo[] attributes = new MBeanAttributeInfo[known.size()];
            for (int i = 0; i < attributes.length; i++)
            {
                final String label = known.get(i).label();
                final String description = CounterSnapshot.description(
                    io.homa.driver.status.ScopedCounterLabels.name(label));
                attributes[i] = new MBeanAttributeInfo(label, "long", null == description ? label : description,
                    true, false, false);
            }
            return new MBeanInfo(CounterExports.class.getName(), "Homa driver counters (the CnC's, live)",
                attributes, null, null, null);
        }
    }
}
